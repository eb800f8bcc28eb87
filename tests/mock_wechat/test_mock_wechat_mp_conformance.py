"""wechatpy's real WeChatClient (official-account API), pointed at the mock, sees WeChat's behaviour:
``client.message.send_template`` with its own token fetch, cache and retry-on-40001/42001 logic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from wechatpy.exceptions import APILimitedException, WeChatClientException

from mock_wechat.testing import FakeClock, wechat_mp_client

TEMPLATE = "tmpl_reverify_001"
DATA = {"first": {"value": "您正在确认提交：转会转所申请"}, "keyword1": {"value": "转会转所申请", "color": "#173177"}}

ClientFactory = Callable[..., Any]


@pytest.fixture
def client(wechat_server: str, creds: Any) -> ClientFactory:
    def _client(*, appid: str = creds.appid, secret: str = creds.secret, **kwargs: Any) -> Any:
        return wechat_mp_client(wechat_server, appid, secret, **kwargs)

    return _client


def delivered(base: str, openid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(
        f"{base}/_mock/mp/messages", params={"touser": openid}, timeout=10
    ).json()["messages"]
    return found


def mp_control(base: str, path: str, payload: dict[str, Any]) -> None:
    assert requests.post(f"{base}/_mock/mp/{path}", json=payload, timeout=10).status_code == 200


def test_send_template_reaches_the_user(client: ClientFactory, wechat_server: str) -> None:
    wx = client()
    token = wx.fetch_access_token()
    assert token["expires_in"] == 7200 and token["access_token"]
    result = wx.message.send_template("o_alice", TEMPLATE, DATA, url="https://idsvc.example.com/m/s/x")
    assert result["errcode"] == 0 and result["errmsg"] == "ok" and result["msgid"] > 0
    (message,) = delivered(wechat_server, "o_alice")
    assert message["msgid"] == result["msgid"] and message["template_id"] == TEMPLATE
    assert message["url"] == "https://idsvc.example.com/m/s/x" and message["data"] == DATA


def test_wechatpy_refreshes_an_expired_token_and_retries(client: ClientFactory, wechat_server: str) -> None:
    wx = client()
    first = wx.access_token
    mp_control(wechat_server, "tokens/expire", {"access_token": first})  # the mock now answers 42001
    result = wx.message.send_template("o_alice", TEMPLATE, DATA)
    assert result["errcode"] == 0 and wx.access_token != first
    assert len(delivered(wechat_server, "o_alice")) == 1  # the failed attempt delivered nothing


def test_wechatpy_refreshes_an_invalid_token_and_retries(client: ClientFactory, wechat_server: str) -> None:
    wx = client()
    first = wx.access_token
    mp_control(wechat_server, "tokens/revoke", {"access_token": first})  # 40001
    assert wx.message.send_template("o_alice", TEMPLATE, DATA)["errcode"] == 0
    assert wx.access_token != first


def test_token_expiring_with_the_clock(client: ClientFactory, fake_clock: FakeClock) -> None:
    wx = client()
    first = wx.access_token
    fake_clock.advance(7200)  # the mock's token is dead; wechatpy's own clock still thinks it is fresh
    assert wx.message.send_template("o_alice", TEMPLATE, DATA)["errcode"] == 0
    assert wx.access_token != first


def test_unsubscribed_user_raises_43004(client: ClientFactory, wechat_server: str) -> None:
    mp_control(wechat_server, "subscribers", {"openid": "o_gone", "subscribed": False})
    with pytest.raises(WeChatClientException) as info:
        client().message.send_template("o_gone", TEMPLATE, DATA)
    assert info.value.errcode == 43004


def test_daily_quota_raises_wechatpys_api_limited(client: ClientFactory, wechat_server: str) -> None:
    wx = client()
    mp_control(wechat_server, "quota", {"endpoint": "template_send", "daily_limit": 1})
    wx.message.send_template("o_alice", TEMPLATE, DATA)
    with pytest.raises(APILimitedException) as info:
        wx.message.send_template("o_alice", TEMPLATE, DATA)
    assert info.value.errcode == 45009


def test_wrong_secret_fails_the_token_fetch(client: ClientFactory) -> None:
    with pytest.raises(WeChatClientException) as info:
        client(secret="wrong").fetch_access_token()
    assert info.value.errcode == 40001


def test_bad_template_id_and_openid(client: ClientFactory) -> None:
    wx = client()
    for call, errcode in (
        (lambda: wx.message.send_template("o_alice", "", DATA), 40037),
        (lambda: wx.message.send_template("not an openid", TEMPLATE, DATA), 40003),
    ):
        with pytest.raises(WeChatClientException) as info:
            call()
        assert info.value.errcode == errcode
