from __future__ import annotations

import pytest

from idsvc.core.settings import Settings


@pytest.fixture
def settings(settings: Settings, wechat_server: str) -> Settings:
    """Point the app at the real mock WeChat over HTTP (the phone flow of the lock tests)."""
    return settings.replace(wechat_api_base=f"{wechat_server}/", wechat_oauth_base=f"{wechat_server}/connect/")
