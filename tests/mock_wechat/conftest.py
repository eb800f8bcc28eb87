"""Fixtures: the mock WeChat as a real HTTP server on a loopback port, with a controllable clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask

from mock_wechat import create_app
from mock_wechat.testing import FakeClock, serve_in_thread


@dataclass(frozen=True)
class Creds:
    appid: str = "wx_test_appid"
    secret: str = "test_secret"
    redirect_uri: str = "https://idsvc.example.com/m/oauth/callback"


CREDS = Creds()


@pytest.fixture
def creds() -> Creds:
    """The app's appid/secret and the redirect_uri the tests authorise for."""
    return CREDS


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wechat_app(fake_clock: FakeClock) -> Flask:
    return create_app(CREDS.appid, CREDS.secret, clock=fake_clock, public_url="https://idsvc.example.com")


@pytest.fixture
def wechat_server(wechat_app: Flask) -> Iterator[str]:
    """Base URL (no trailing slash) of the mock served by werkzeug on 127.0.0.1, threaded."""
    base_url, shutdown = serve_in_thread(wechat_app)
    yield base_url
    shutdown()


AuthorizeFn = Callable[..., requests.Response]


@pytest.fixture
def authorize(wechat_server: str) -> AuthorizeFn:
    """GET the authorize URL (as the phone would) without following the redirect.  Thread-safe."""

    def _authorize(
        *,
        appid: str = CREDS.appid,
        redirect_uri: str = CREDS.redirect_uri,
        scope: str = "snsapi_base",
        state: str | None = "st4te",
        headers: dict[str, str] | None = None,
        cookies: dict[str, str] | None = None,
    ) -> requests.Response:
        params = {"appid": appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope}
        if state is not None:
            params["state"] = state
        return requests.get(
            f"{wechat_server}/connect/oauth2/authorize",
            params=params,
            headers=headers,
            cookies=cookies,
            allow_redirects=False,
            timeout=10,
        )

    return _authorize


@pytest.fixture
def get_code(authorize: AuthorizeFn) -> Callable[..., str]:
    """Authorize and return the code from the 302 (kwargs as for `authorize`)."""

    def _get_code(**kwargs: object) -> str:
        resp = authorize(**kwargs)
        assert resp.status_code == 302, resp.text
        return parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]

    return _get_code
