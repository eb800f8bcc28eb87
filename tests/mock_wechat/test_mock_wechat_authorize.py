"""The authorize endpoint: redirect shape, who the phone is, and WeChat's error page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mock_wechat import create_app
from mock_wechat.testing import serve_in_thread


def redeem(base: str, creds: Any, code: str) -> dict[str, Any]:
    params = {"appid": creds.appid, "secret": creds.secret, "code": code, "grant_type": "authorization_code"}
    return requests.get(f"{base}/sns/oauth2/access_token", params=params, timeout=10).json()


def location(resp: requests.Response) -> tuple[str, dict[str, list[str]], str]:
    assert resp.status_code == 302, resp.text
    parts = urlsplit(resp.headers["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parse_qs(parts.query, keep_blank_values=True), parts.fragment


def test_redirect_carries_code_and_state(authorize: Callable[..., requests.Response], creds: Any) -> None:
    target, query, fragment = location(authorize(state="Xy9"))
    assert target == creds.redirect_uri
    assert query["state"] == ["Xy9"] and len(query["code"][0]) == 32 and query["code"][0].isalnum()
    assert fragment == ""


def test_codes_are_unique_per_authorisation(get_code: Callable[..., str]) -> None:
    assert len({get_code() for _ in range(20)}) == 20


def test_existing_query_and_fragment_are_kept(authorize: Callable[..., requests.Response]) -> None:
    # WeChat appends code/state to the query and leaves a SPA hash route after them.
    target, query, fragment = location(authorize(redirect_uri="https://idsvc.example.com/cb?sid=42#/page"))
    assert target == "https://idsvc.example.com/cb"
    assert query["sid"] == ["42"] and "code" in query and query["state"] == ["st4te"]
    assert fragment == "/page"


@pytest.mark.parametrize(
    ("headers", "cookies", "expected"),
    [
        ({"X-Mock-Openid": "o_header"}, None, "o_header"),
        (None, {"mock_openid": "o_cookie"}, "o_cookie"),
        ({"X-Mock-Openid": "o_header"}, {"mock_openid": "o_cookie"}, "o_header"),
        (None, None, "o_mock_default_user"),
    ],
)
def test_openid_comes_from_header_then_cookie_then_default(
    wechat_server: str, creds: Any, get_code: Callable[..., str], headers: Any, cookies: Any, expected: str
) -> None:
    code = get_code(headers=headers, cookies=cookies)
    assert redeem(wechat_server, creds, code)["openid"] == expected


def test_mock_login_sets_the_cookie_a_browser_carries(wechat_server: str, creds: Any) -> None:
    with requests.Session() as browser:
        resp = browser.get(
            f"{wechat_server}/_mock/login",
            params={"openid": "o_browser", "next": "/connect/after?x=1"},
            allow_redirects=False,
            timeout=10,
        )
        assert resp.status_code == 302 and resp.headers["Location"] == "/connect/after?x=1"
        params = {
            "appid": creds.appid,
            "redirect_uri": creds.redirect_uri,
            "response_type": "code",
            "scope": "snsapi_base",
        }
        resp = browser.get(
            f"{wechat_server}/connect/oauth2/authorize", params=params, allow_redirects=False, timeout=10
        )
    code = location(resp)[1]["code"][0]
    assert redeem(wechat_server, creds, code)["openid"] == "o_browser"


@pytest.mark.parametrize(
    ("overrides", "errcode"),
    [
        ({"appid": "wx_unknown"}, 40013),
        ({"appid": ""}, 10012),
        ({"redirect_uri": ""}, 10011),
        ({"redirect_uri": "javascript:alert(1)"}, 10003),
        ({"scope": ""}, 10010),
        ({"scope": "snsapi_login"}, 10005),
        ({"headers": {"X-Mock-Openid": "bad openid!"}}, 40003),
    ],
)
def test_errors_render_wechats_page_not_a_redirect(
    authorize: Callable[..., requests.Response], overrides: dict[str, Any], errcode: int
) -> None:
    resp = authorize(**overrides)
    assert resp.status_code == 200 and "Location" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "Oops! Something went wrong:(" in resp.text and f"错误码：{errcode}" in resp.text
    assert resp.headers["X-Mock-Errcode"] == str(errcode)


def test_error_is_json_when_json_is_asked_for(wechat_server: str) -> None:
    resp = requests.get(
        f"{wechat_server}/connect/oauth2/authorize",
        params={"appid": "wx_unknown", "redirect_uri": "https://a/", "response_type": "code", "scope": "snsapi_base"},
        headers={"Accept": "application/json"},
        allow_redirects=False,
        timeout=10,
    )
    body = resp.json()
    assert resp.status_code == 200 and body["errcode"] == 40013 and body["errmsg"].startswith("invalid appid")


def test_response_type_must_be_code(wechat_server: str, creds: Any) -> None:
    params = {
        "appid": creds.appid,
        "redirect_uri": creds.redirect_uri,
        "response_type": "token",
        "scope": "snsapi_base",
    }
    resp = requests.get(f"{wechat_server}/connect/oauth2/authorize", params=params, allow_redirects=False, timeout=10)
    assert resp.status_code == 200 and "Location" not in resp.headers and "X-Mock-Errcode" in resp.headers


def test_redirect_hosts_and_wechat_ua_are_enforced_when_configured() -> None:
    app = create_app("wx_a", "s", redirect_hosts=["idsvc.example.com"], require_wechat_ua=True)
    base, shutdown = serve_in_thread(app)
    try:
        params = {
            "appid": "wx_a",
            "redirect_uri": "https://idsvc.example.com/cb",
            "response_type": "code",
            "scope": "snsapi_base",
        }
        url = f"{base}/connect/oauth2/authorize"
        wechat_ua = {"User-Agent": "Mozilla/5.0 (iPhone) Mobile/15E148 MicroMessenger/8.0.47 NetType/WIFI"}
        desktop = requests.get(url, params=params, allow_redirects=False, timeout=10)
        assert desktop.status_code == 200 and "请在微信客户端打开链接" in desktop.text
        assert requests.get(url, params=params, headers=wechat_ua, allow_redirects=False, timeout=10).status_code == 302
        other = dict(params, redirect_uri="https://evil.example.net/cb")
        resp = requests.get(url, params=other, headers=wechat_ua, allow_redirects=False, timeout=10)
        assert resp.status_code == 200 and resp.headers["X-Mock-Errcode"] == "10003"
    finally:
        shutdown()
