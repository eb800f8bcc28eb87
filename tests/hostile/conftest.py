"""The hostile suite (issue #9): every test under tests/hostile, and the regression tests listed in
``regressions.py``, carry the ``hostile`` marker (``make test-hostile`` = ``pytest -m hostile``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from idsvc.core.settings import Settings
from tests.hostile.regressions import node_ids

HERE = Path(__file__).parent


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    listed = node_ids()
    for item in items:
        path = Path(str(item.path))
        nodeid = item.nodeid.split("[", 1)[0]
        if HERE in path.parents or any(nodeid == n or nodeid.startswith(n + "::") for n in listed):
            item.add_marker(pytest.mark.hostile)


@pytest.fixture
def settings(settings: Settings, wechat_server: str) -> Settings:
    """The app talks to the real mock WeChat over HTTP (the phone flow needs it)."""
    return settings.replace(wechat_api_base=f"{wechat_server}/", wechat_oauth_base=f"{wechat_server}/connect/")
