"""#9.12: the mock redirects OAuth codes only to the app's domain, and /_mock/login is no open redirect.

Before the fix the mock redirected a code to any redirect_uri host when no hosts were configured
(the default), and ``/_mock/login?next=`` followed any absolute http(s) URL.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

from mock_wechat import create_app
from mock_wechat.testing import serve_in_thread

AuthorizeFn = Callable[..., requests.Response]


def assert_refused_with_10003(resp: requests.Response) -> None:
    assert resp.status_code == 200 and "Location" not in resp.headers
    assert resp.headers["X-Mock-Errcode"] == "10003"
    assert "错误码：10003" in resp.text and "redirect_uri 参数错误" in resp.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.net/m/oauth/callback",
        "https://sub.idsvc.example.com/cb",  # WeChat allows the exact domain only, not subdomains
        "https://idsvc.example.com.evil.example/cb",
        "https://evil.example/cb?next=https://idsvc.example.com/",
        "https://idsvc.example.com@evil.example/cb",  # user info: the host is evil.example
        "https://evil.example\\@idsvc.example.com/cb",  # a browser goes to evil.example
        "https://user@idsvc.example.com/cb",
        "https://idsvc.example.com\t/cb",
        "https://idsvc.example.com:99999/cb",
        "//idsvc.example.com/cb",
        "ftp://idsvc.example.com/cb",
        "javascript://idsvc.example.com/%0aalert(1)",
    ],
)
def test_codes_go_only_to_the_configured_domain(authorize: AuthorizeFn, redirect_uri: str) -> None:
    assert_refused_with_10003(authorize(redirect_uri=redirect_uri))


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://idsvc.example.com/m/oauth/callback",
        "http://IDSVC.example.com:8443/cb?x=1",  # any scheme of http(s), any port, case-insensitive
        "https://idsvc.example.com./cb",
    ],
)
def test_the_configured_domain_is_accepted(authorize: AuthorizeFn, redirect_uri: str) -> None:
    assert authorize(redirect_uri=redirect_uri).status_code == 302


def test_json_clients_get_errcode_10003(wechat_server: str, creds: Any) -> None:
    params = {
        "appid": creds.appid,
        "redirect_uri": "https://evil.example/cb",
        "response_type": "code",
        "scope": "snsapi_base",
    }
    resp = requests.get(
        f"{wechat_server}/connect/oauth2/authorize",
        params=params,
        headers={"Accept": "application/json"},
        allow_redirects=False,
        timeout=10,
    )
    body = resp.json()
    assert body["errcode"] == 10003 and body["errmsg"].startswith("redirect_uri 参数错误")


def test_default_domain_is_idsvcs_public_url_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDSVC_PUBLIC_URL", raising=False)
    assert create_app("wx_a", "s").extensions["mock_wechat"].config.redirect_hosts == {"127.0.0.1"}
    monkeypatch.setenv("IDSVC_PUBLIC_URL", "https://id.example.org:8443/base")
    assert create_app("wx_a", "s").extensions["mock_wechat"].config.redirect_hosts == {"id.example.org"}
    # An explicit public_url beats the environment; explicit hosts beat both.
    config = create_app("wx_a", "s", public_url="https://other.example").extensions["mock_wechat"].config
    assert config.redirect_hosts == {"other.example"}
    config = create_app("wx_a", "s", redirect_hosts=["A.example", "b.example"]).extensions["mock_wechat"].config
    assert config.redirect_hosts == {"a.example", "b.example"}
    with pytest.raises(ValueError):
        create_app("wx_a", "s", redirect_hosts=[])
    with pytest.raises(ValueError):
        create_app("wx_a", "s", public_url="not a url")


def test_default_mock_refuses_a_foreign_host_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("IDSVC_PUBLIC_URL", raising=False)
    base, shutdown = serve_in_thread(create_app("wx_a", "s"))
    try:
        params = {"appid": "wx_a", "response_type": "code", "scope": "snsapi_base", "state": "s"}
        url = f"{base}/connect/oauth2/authorize"
        ok = requests.get(
            url, params=dict(params, redirect_uri="http://127.0.0.1:8000/m/cb"), allow_redirects=False, timeout=10
        )
        assert ok.status_code == 302 and ok.headers["Location"].startswith("http://127.0.0.1:8000/m/cb?code=")
        bad = requests.get(
            url, params=dict(params, redirect_uri="https://evil.example/cb"), allow_redirects=False, timeout=10
        )
        assert_refused_with_10003(bad)
    finally:
        shutdown()


@pytest.mark.parametrize(
    "nxt",
    [
        "https://evil.example/",
        "http://evil.example/x",
        "//evil.example/x",
        "/\\evil.example/x",
        "\\\\evil.example",
        "/x\\y",
        "https:evil.example",
        "javascript:alert(1)",
        "evil.example/x",
        "/%0d%0aSet-Cookie:x=1\r\n",
        "https://127.0.0.1.evil.example/",
    ],
)
def test_mock_login_is_not_an_open_redirect(wechat_server: str, nxt: str) -> None:
    resp = requests.get(
        f"{wechat_server}/_mock/login",
        params={"openid": "o_browser", "next": nxt},
        allow_redirects=False,
        timeout=10,
    )
    assert resp.status_code == 400 and "error" in resp.json()
    assert "Location" not in resp.headers and "mock_openid" not in resp.cookies


def test_mock_login_follows_paths_and_its_own_origin(wechat_server: str) -> None:
    for nxt in ("/connect/oauth2/authorize?appid=x", f"{wechat_server}/_mock/state"):
        resp = requests.get(
            f"{wechat_server}/_mock/login",
            params={"openid": "o_browser", "next": nxt},
            allow_redirects=False,
            timeout=10,
        )
        assert resp.status_code == 302 and resp.headers["Location"] == nxt
        assert resp.cookies["mock_openid"] == "o_browser"
