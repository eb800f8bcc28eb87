from __future__ import annotations

from typing import Any

import pytest

from idsvc.core.settings import Settings
from tests.qr.phone import Desktop


@pytest.fixture
def settings(settings: Settings, wechat_server: str) -> Settings:
    """Point the app at the real mock WeChat over HTTP."""
    return settings.replace(wechat_api_base=f"{wechat_server}/", wechat_oauth_base=f"{wechat_server}/connect/")


@pytest.fixture
def member(make_member: Any) -> Any:
    return make_member(id_record=True)


@pytest.fixture
def desktop(live_server: str, platform_key: str, member: Any) -> Desktop:
    return Desktop(live_server, platform_key)
