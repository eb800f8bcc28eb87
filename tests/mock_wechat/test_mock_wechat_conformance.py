"""wechatpy's real WeChatOAuth client, pointed at the mock, sees WeChat's behaviour."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from mock_wechat.testing import FakeClock, load_wechatpy_oauth, wechat_oauth_client

WeChatOAuth, WeChatOAuthException = load_wechatpy_oauth()
REDIRECT_URI = "https://idsvc.example.com/m/oauth/callback"

ClientFactory = Callable[..., Any]


@pytest.fixture
def client(wechat_server: str, creds: Any) -> ClientFactory:
    """A fresh wechatpy client for the mock; override appid/secret/scope/state per call."""

    def _client(*, appid: str = creds.appid, secret: str = creds.secret, **kwargs: Any) -> Any:
        return wechat_oauth_client(wechat_server, appid, secret, REDIRECT_URI, **kwargs)

    return _client


def phone_follows(oauth: Any, openid: str) -> tuple[str, str]:
    """Open wechatpy's own authorize_url as the phone would; return (code, state) from the 302."""
    url = oauth.authorize_url
    assert url.endswith("#wechat_redirect")
    resp = requests.get(url, headers={"X-Mock-Openid": openid}, allow_redirects=False, timeout=10)
    assert resp.status_code == 302, resp.text
    location = resp.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?")
    query = parse_qs(urlsplit(location).query, keep_blank_values=True)
    return query["code"][0], query["state"][0]


def errcode_of(call: Callable[[], object]) -> int:
    with pytest.raises(WeChatOAuthException) as info:
        call()
    return info.value.errcode


def test_full_userinfo_flow(client: ClientFactory) -> None:
    oauth = client(scope="snsapi_userinfo", state="abc123")
    code, state = phone_follows(oauth, "o_alice")
    assert state == "abc123"

    token = oauth.fetch_access_token(code)
    assert token["openid"] == oauth.open_id == "o_alice"
    assert token["expires_in"] == 7200 and token["scope"] == "snsapi_userinfo"
    assert token["access_token"] and token["refresh_token"] and token["unionid"]

    info = oauth.get_user_info()
    assert info["openid"] == "o_alice" and info["unionid"] == token["unionid"]
    for key in ("nickname", "sex", "province", "city", "country", "headimgurl", "privilege"):
        assert key in info
    assert oauth.check_access_token() is True

    first_access = oauth.access_token
    refreshed = oauth.refresh_access_token(oauth.refresh_token)
    assert refreshed["openid"] == "o_alice" and refreshed["expires_in"] == 7200
    assert refreshed["access_token"] != first_access
    assert oauth.check_access_token() is True  # the new token works


def test_base_scope_gives_openid_but_no_userinfo(client: ClientFactory) -> None:
    oauth = client()  # wechatpy's default: snsapi_base, no state
    code, state = phone_follows(oauth, "o_bob")
    assert state == ""  # WeChat always sends the state key, empty when none was given
    token = oauth.fetch_access_token(code)
    assert token["openid"] == "o_bob" and token["scope"] == "snsapi_base"
    assert "unionid" not in token
    assert oauth.check_access_token() is True
    assert errcode_of(oauth.get_user_info) == 48001


def test_reused_code_is_40163(client: ClientFactory) -> None:
    oauth = client()
    code, _ = phone_follows(oauth, "o_alice")
    oauth.fetch_access_token(code)
    assert errcode_of(lambda: oauth.fetch_access_token(code)) == 40163


def test_bogus_code_is_40029(client: ClientFactory) -> None:
    assert errcode_of(lambda: client().fetch_access_token("0" * 32)) == 40029


def test_wrong_secret_is_40125_and_does_not_burn_the_code(client: ClientFactory) -> None:
    good = client()
    code, _ = phone_follows(good, "o_alice")
    assert errcode_of(lambda: client(secret="wrong").fetch_access_token(code)) == 40125
    assert good.fetch_access_token(code)["openid"] == "o_alice"


def test_wrong_or_missing_appid(client: ClientFactory) -> None:
    code, _ = phone_follows(client(), "o_alice")
    assert errcode_of(lambda: client(appid="wx_other").fetch_access_token(code)) == 40013
    assert errcode_of(lambda: client(appid="").fetch_access_token(code)) == 41002
    assert errcode_of(lambda: client(secret="").fetch_access_token(code)) == 41004


def test_missing_code_is_41008(client: ClientFactory) -> None:
    assert errcode_of(lambda: client().fetch_access_token("")) == 41008


def test_code_expires_after_five_minutes(client: ClientFactory, fake_clock: FakeClock) -> None:
    oauth = client()
    fresh, _ = phone_follows(oauth, "o_alice")
    stale, _ = phone_follows(oauth, "o_alice")
    fake_clock.advance(299)
    assert oauth.fetch_access_token(fresh)["openid"] == "o_alice"
    fake_clock.advance(1)  # 300 s after issue: gone
    assert errcode_of(lambda: oauth.fetch_access_token(stale)) == 40029


def test_access_token_expires_after_7200_s(client: ClientFactory, fake_clock: FakeClock) -> None:
    oauth = client()
    oauth.fetch_access_token(phone_follows(oauth, "o_alice")[0])
    fake_clock.advance(7199)
    assert oauth.check_access_token() is True
    fake_clock.advance(1)
    assert errcode_of(oauth.check_access_token) == 42001
    # The refresh token (30 days) still yields a working access token.
    oauth.refresh_access_token(oauth.refresh_token)
    assert oauth.check_access_token() is True


def test_refresh_token_expires_after_30_days(client: ClientFactory, fake_clock: FakeClock) -> None:
    oauth = client()
    oauth.fetch_access_token(phone_follows(oauth, "o_alice")[0])
    refresh = oauth.refresh_token
    fake_clock.advance(30 * 24 * 3600 - 1)
    oauth.refresh_access_token(refresh)
    fake_clock.advance(1)
    assert errcode_of(lambda: oauth.refresh_access_token(refresh)) == 42002
    assert errcode_of(lambda: oauth.refresh_access_token("87_bogus")) == 40030
    assert errcode_of(lambda: oauth.refresh_access_token("")) == 41003


def test_token_checks_reject_wrong_openid_and_unknown_token(client: ClientFactory) -> None:
    oauth = client(scope="snsapi_userinfo")
    oauth.fetch_access_token(phone_follows(oauth, "o_alice")[0])
    assert errcode_of(lambda: oauth.check_access_token(openid="o_mallory")) == 40003
    assert errcode_of(lambda: oauth.check_access_token(access_token="87_bogus")) == 40001
    assert errcode_of(lambda: oauth.get_user_info(openid="o_mallory")) == 40003
