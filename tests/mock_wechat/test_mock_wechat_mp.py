"""The official-account API over HTTP: /cgi-bin/token and /cgi-bin/message/template/send, with
WeChat's JSON shapes and error codes, and the /_mock/mp/ controls tests use."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from mock_wechat.testing import FakeClock

TEMPLATE = "tmpl_reverify_001"


def token_call(base: str, **params: str) -> dict[str, Any]:
    resp = requests.get(f"{base}/cgi-bin/token", params=params, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("application/json")
    body: dict[str, Any] = resp.json()
    return body


def new_token(base: str, creds: Any) -> str:
    body = token_call(base, grant_type="client_credential", appid=creds.appid, secret=creds.secret)
    assert set(body) == {"access_token", "expires_in"} and body["expires_in"] == 7200, body
    token: str = body["access_token"]
    return token


def send(base: str, token: str | None, body: Any = None, *, raw: bytes | None = None) -> dict[str, Any]:
    params = {} if token is None else {"access_token": token}
    if raw is None:
        body = {"touser": "o_alice", "template_id": TEMPLATE, "data": {}} if body is None else body
        resp = requests.post(f"{base}/cgi-bin/message/template/send", params=params, json=body, timeout=10)
    else:
        resp = requests.post(f"{base}/cgi-bin/message/template/send", params=params, data=raw, timeout=10)
    assert resp.status_code == 200
    result: dict[str, Any] = resp.json()
    return result


def control(base: str, path: str, payload: dict[str, Any]) -> requests.Response:
    return requests.post(f"{base}/_mock/mp/{path}", json=payload, timeout=10)


def messages(base: str, touser: str | None = None) -> list[dict[str, Any]]:
    params = {"touser": touser} if touser else {}
    found: list[dict[str, Any]] = requests.get(f"{base}/_mock/mp/messages", params=params, timeout=10).json()[
        "messages"
    ]
    return found


def test_token_then_template_send_delivers(wechat_server: str, creds: Any) -> None:
    token = new_token(wechat_server, creds)
    body = {
        "touser": "o_alice",
        "template_id": TEMPLATE,
        "url": "https://idsvc.example.com/m/s/abc",
        "data": {"first": {"value": "请确认提交", "color": "#173177"}, "keyword1": {"value": "转会转所申请"}},
    }
    first = send(wechat_server, token, body)
    assert first["errcode"] == 0 and first["errmsg"] == "ok" and isinstance(first["msgid"], int)
    second = send(wechat_server, token, dict(body, touser="o_bob"))
    assert second["msgid"] > first["msgid"]
    (delivered,) = messages(wechat_server, "o_alice")
    assert delivered["msgid"] == first["msgid"] and delivered["url"] == body["url"]
    assert delivered["template_id"] == TEMPLATE and delivered["data"] == body["data"]
    assert len(messages(wechat_server)) == 2


@pytest.mark.parametrize(
    ("params", "errcode"),
    [
        ({"grant_type": "client_credential", "secret": "test_secret"}, 41002),
        ({"grant_type": "client_credential", "appid": "wx_other", "secret": "test_secret"}, 40013),
        ({"grant_type": "client_credential", "appid": "wx_test_appid"}, 41004),
        ({"grant_type": "client_credential", "appid": "wx_test_appid", "secret": "wrong"}, 40001),
        ({"grant_type": "authorization_code", "appid": "wx_test_appid", "secret": "test_secret"}, 40002),
        ({"appid": "wx_test_appid", "secret": "test_secret"}, 40002),
    ],
)
def test_token_errors(wechat_server: str, params: dict[str, str], errcode: int) -> None:
    body = token_call(wechat_server, **params)
    assert body["errcode"] == errcode and ", rid: " in body["errmsg"] and "access_token" not in body


def test_send_errors(wechat_server: str, creds: Any) -> None:
    token = new_token(wechat_server, creds)
    assert send(wechat_server, None)["errcode"] == 41001
    assert send(wechat_server, "87_bogus")["errcode"] == 40001
    assert send(wechat_server, token, raw=b"")["errcode"] == 44002
    assert send(wechat_server, token, raw=b"{not json")["errcode"] == 47001
    assert send(wechat_server, token, raw=b"[1, 2]")["errcode"] == 47001
    assert send(wechat_server, token, raw=b"\xff\xfe")["errcode"] == 47001
    assert send(wechat_server, token, raw=b"[" * 100_000)["errcode"] == 47001
    assert send(wechat_server, token, {"template_id": TEMPLATE})["errcode"] == 40003
    assert send(wechat_server, token, {"touser": "bad openid!", "template_id": TEMPLATE})["errcode"] == 40003
    assert send(wechat_server, token, {"touser": "o_alice"})["errcode"] == 40037
    assert send(wechat_server, token, {"touser": "o_alice", "template_id": " "})["errcode"] == 40037
    bad_data = {"touser": "o_alice", "template_id": TEMPLATE, "data": {"k": "not an object"}}
    assert send(wechat_server, token, bad_data)["errcode"] == 47001
    assert send(wechat_server, token, {"touser": "o_alice", "template_id": TEMPLATE, "url": 5})["errcode"] == 47001
    get = requests.get(f"{wechat_server}/cgi-bin/message/template/send", params={"access_token": token}, timeout=10)
    assert get.json()["errcode"] == 43002
    assert messages(wechat_server) == []


def test_expired_and_revoked_tokens(wechat_server: str, creds: Any) -> None:
    token = new_token(wechat_server, creds)
    assert control(wechat_server, "tokens/expire", {"access_token": token}).json()["expired"] == 1
    assert send(wechat_server, token)["errcode"] == 42001
    other = new_token(wechat_server, creds)
    assert control(wechat_server, "tokens/revoke", {}).json()["revoked"] >= 1
    assert send(wechat_server, other)["errcode"] == 40001


def test_token_expires_after_7200_s(wechat_server: str, creds: Any, fake_clock: FakeClock) -> None:
    token = new_token(wechat_server, creds)
    fake_clock.advance(7199)
    assert send(wechat_server, token)["errcode"] == 0
    fake_clock.advance(1)
    assert send(wechat_server, token)["errcode"] == 42001


def test_a_new_token_ends_the_old_one_after_five_minutes(wechat_server: str, creds: Any, fake_clock: FakeClock) -> None:
    old = new_token(wechat_server, creds)
    new = new_token(wechat_server, creds)
    assert old != new
    fake_clock.advance(299)
    assert send(wechat_server, old)["errcode"] == 0
    fake_clock.advance(1)
    assert send(wechat_server, old)["errcode"] == 42001
    assert send(wechat_server, new)["errcode"] == 0


def test_unsubscribed_user_is_43004(wechat_server: str, creds: Any) -> None:
    token = new_token(wechat_server, creds)
    assert control(wechat_server, "subscribers", {"openid": "o_alice", "subscribed": False}).status_code == 200
    assert send(wechat_server, token)["errcode"] == 43004
    assert send(wechat_server, token, {"touser": "o_bob", "template_id": TEMPLATE})["errcode"] == 0
    control(wechat_server, "subscribers", {"openid": "o_alice", "subscribed": True})
    assert send(wechat_server, token)["errcode"] == 0
    assert [m["touser"] for m in messages(wechat_server)] == ["o_bob", "o_alice"]


def test_daily_quota_is_45009_until_the_next_day(wechat_server: str, creds: Any, fake_clock: FakeClock) -> None:
    fake_clock.advance(86400 - fake_clock() % 86400)  # start of a mock day
    token = new_token(wechat_server, creds)
    control(wechat_server, "quota", {"endpoint": "template_send", "daily_limit": 2})
    assert [send(wechat_server, token)["errcode"] for _ in range(3)] == [0, 0, 45009]
    control(wechat_server, "quota", {"endpoint": "token", "daily_limit": 1})
    assert (
        token_call(wechat_server, grant_type="client_credential", appid=creds.appid, secret=creds.secret)["errcode"]
        == 45009
    )
    fake_clock.advance(3600)  # same day: still over
    assert send(wechat_server, token)["errcode"] == 45009
    fake_clock.advance(86400)  # next day: both quotas start again (the old token has expired by now)
    assert send(wechat_server, new_token(wechat_server, creds))["errcode"] == 0
    assert len(messages(wechat_server)) == 3


def test_faults_apply_to_the_mp_endpoints(wechat_server: str, creds: Any) -> None:
    token = new_token(wechat_server, creds)
    fault = {"endpoint": "template_send", "errcode": -1, "count": 1}
    assert requests.post(f"{wechat_server}/_mock/faults", json=fault, timeout=10).status_code == 200
    assert send(wechat_server, token)["errcode"] == -1
    assert send(wechat_server, token)["errcode"] == 0


def test_reset_and_state(wechat_server: str, creds: Any) -> None:
    token = new_token(wechat_server, creds)
    send(wechat_server, token)
    control(wechat_server, "subscribers", {"openid": "o_carol", "subscribed": False})
    state = requests.get(f"{wechat_server}/_mock/state", timeout=10).json()
    assert state["mp_access_tokens_live"] == 1 and state["mp_messages"] == 1 and state["mp_unsubscribed"] == 1
    requests.post(f"{wechat_server}/_mock/reset", timeout=10)
    assert send(wechat_server, token)["errcode"] == 40001 and messages(wechat_server) == []


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("tokens/expire", {"access_token": 5}),
        ("subscribers", {"openid": "o_a"}),
        ("subscribers", {"openid": "bad openid", "subscribed": False}),
        ("subscribers", {"openid": "o_a", "subscribed": "no"}),
        ("quota", {"endpoint": "userinfo", "daily_limit": 1}),
        ("quota", {"endpoint": "token", "daily_limit": -1}),
        ("quota", {"endpoint": "token", "daily_limit": 1.5}),
    ],
)
def test_bad_mp_control_requests_are_400(wechat_server: str, path: str, payload: dict[str, Any]) -> None:
    resp = control(wechat_server, path, payload)
    assert resp.status_code == 400 and "error" in resp.json()
