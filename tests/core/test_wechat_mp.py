"""idsvc.core.wechat_mp.OfficialAccount against the real mock WeChat over HTTP and the real Redis.

The mock server (``wechat_server``) is shared by the whole run, so every test uses its own openids
and touches only its own tokens; Redis keys are per test (``services``' prefix).
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import pytest
import redis as redis_lib
import requests

from idsvc.core.clock import FixedClock
from idsvc.core.errors import IdsvcError
from idsvc.core.services import Services
from idsvc.core.store import Store
from idsvc.core.wechat_mp import TOKEN_MARGIN_S, OfficialAccount

APPID, SECRET = "wx_test_appid", "test_secret"
TEMPLATE = "tmpl_reverify_001"


class CountingSession(requests.Session):
    """A real requests session that counts calls per path (shared by threads)."""

    def __init__(self, counter: Counter[str] | None = None) -> None:
        super().__init__()
        self.calls: Counter[str] = counter if counter is not None else Counter()
        self._lock = threading.Lock()

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        path = str(url).split("?")[0].split("/cgi-bin/", 1)[-1]
        with self._lock:
            self.calls[path] += 1
        return super().request(method, url, *args, **kwargs)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_800_000_000.0)


@pytest.fixture
def http() -> CountingSession:
    return CountingSession()


@pytest.fixture
def account(wechat_server: str, services: Services, clock: FixedClock, http: CountingSession) -> OfficialAccount:
    return OfficialAccount(APPID, SECRET, wechat_server + "/", services.store, clock, 5.0, http=http)


@pytest.fixture
def openid() -> str:
    return "o_" + uuid.uuid4().hex[:20]


def delivered(base: str, openid: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = requests.get(
        f"{base}/_mock/mp/messages", params={"touser": openid}, timeout=10
    ).json()["messages"]
    return found


def mock_control(base: str, path: str, payload: dict[str, Any]) -> None:
    assert requests.post(f"{base}/_mock/{path}", json=payload, timeout=10).status_code == 200


def cached_token(services: Services, account: OfficialAccount) -> str:
    entry = services.store.get_json(account.token_key)
    assert entry is not None
    token: str = entry["access_token"]
    return token


def error_of(call: Any) -> IdsvcError:
    with pytest.raises(IdsvcError) as info:
        call()
    return info.value


def test_send_template_delivers_and_returns_msgid(
    account: OfficialAccount, wechat_server: str, openid: str, http: CountingSession
) -> None:
    link = "https://idsvc.example.com/m/s/abc?t=1"
    msgid = account.send_template(
        openid,
        TEMPLATE,
        link,
        {"first": "您正在确认提交：转会转所申请", "keyword1": {"value": "x", "color": "#173177"}},
    )
    (message,) = delivered(wechat_server, openid)
    assert message["msgid"] == msgid and message["template_id"] == TEMPLATE and message["url"] == link
    assert message["data"] == {
        "first": {"value": "您正在确认提交：转会转所申请"},
        "keyword1": {"value": "x", "color": "#173177"},
    }
    assert http.calls == {"token": 1, "message/template/send": 1}


def test_token_is_cached_in_redis_with_ttl_and_shared(
    account: OfficialAccount, services: Services, clock: FixedClock, wechat_server: str, openid: str
) -> None:
    account.send_template(openid, TEMPLATE, None, {})
    ttl = services.store.redis.ttl(account.token_key)
    assert 7200 - TOKEN_MARGIN_S - 60 <= ttl <= 7200 - TOKEN_MARGIN_S
    # Another process (another instance, same Redis) uses the same token: no fetch of its own.
    other_http = CountingSession()
    other = OfficialAccount(APPID, SECRET, wechat_server, services.store, clock, 5.0, http=other_http)
    assert other.access_token() == cached_token(services, account)
    other.send_template(openid, TEMPLATE, None, {})
    assert other_http.calls == {"message/template/send": 1}
    assert len(delivered(wechat_server, openid)) == 2


def test_token_is_refetched_once_its_cache_time_is_over(
    account: OfficialAccount, services: Services, clock: FixedClock, http: CountingSession, openid: str
) -> None:
    first = account.access_token()
    clock.advance(7200 - TOKEN_MARGIN_S - 1)
    assert account.access_token() == first and http.calls["token"] == 1
    clock.advance(1)
    second = account.access_token()
    assert second != first and http.calls["token"] == 2 and cached_token(services, account) == second
    account.send_template(openid, TEMPLATE, None, {})  # the new token works


@pytest.mark.parametrize("hook", ["mp/tokens/expire", "mp/tokens/revoke"])  # 42001, 40001
def test_token_dead_mid_run_is_refreshed_once_and_the_send_retried(
    account: OfficialAccount,
    services: Services,
    http: CountingSession,
    wechat_server: str,
    openid: str,
    hook: str,
) -> None:
    account.send_template(openid, TEMPLATE, None, {})
    old = cached_token(services, account)
    mock_control(wechat_server, hook, {"access_token": old})
    account.send_template(openid, TEMPLATE, None, {"n": "2"})
    assert http.calls == {"token": 2, "message/template/send": 3}
    assert cached_token(services, account) != old
    assert [m["data"] for m in delivered(wechat_server, openid)] == [{}, {"n": {"value": "2"}}]


def test_refresh_happens_once_not_in_a_loop(
    account: OfficialAccount, http: CountingSession, wechat_server: str, openid: str
) -> None:
    account.access_token()
    mock_control(wechat_server, "faults", {"endpoint": "template_send", "errcode": 42001, "count": 2})
    err = error_of(lambda: account.send_template(openid, TEMPLATE, None, {}))
    assert err.code == "wechat_push_failed" and err.status == 502
    assert err.details == {"wechat_errcode": 42001, "step": "send"}
    assert http.calls == {"token": 2, "message/template/send": 2}
    assert delivered(wechat_server, openid) == []


def test_a_token_replaced_by_another_process_is_used_without_fetching(
    account: OfficialAccount, services: Services, clock: FixedClock, http: CountingSession, wechat_server: str
) -> None:
    stale = account.access_token()
    other = OfficialAccount(APPID, SECRET, wechat_server, services.store, clock, 5.0, http=CountingSession())
    mock_control(wechat_server, "mp/tokens/revoke", {"access_token": stale})
    services.store.redis.delete(account.token_key)
    fresh = other.access_token()  # the other process already refreshed
    assert account._refresh(stale=stale) == fresh and http.calls["token"] == 1


def test_concurrent_processes_fetch_the_token_once(
    services: Services, clock: FixedClock, wechat_server: str, openid: str
) -> None:
    calls: Counter[str] = Counter()
    accounts = [
        OfficialAccount(APPID, SECRET, wechat_server, services.store, clock, 5.0, http=CountingSession(calls))
        for _ in range(8)
    ]
    barrier = threading.Barrier(len(accounts))
    tokens: list[str] = []

    def run(acc: OfficialAccount) -> None:
        barrier.wait()
        tokens.append(acc.access_token())

    threads = [threading.Thread(target=run, args=(a,)) for a in accounts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(tokens) == 8 and len(set(tokens)) == 1 and calls["token"] == 1


def test_not_subscribed_is_409_and_keeps_the_token(
    account: OfficialAccount, http: CountingSession, wechat_server: str, openid: str
) -> None:
    mock_control(wechat_server, "mp/subscribers", {"openid": openid, "subscribed": False})
    err = error_of(lambda: account.send_template(openid, TEMPLATE, None, {}))
    assert (err.code, err.status, err.details["wechat_errcode"]) == ("wechat_not_subscribed", 409, 43004)
    assert err.to_dict()["error"]["message"] and http.calls == {"token": 1, "message/template/send": 1}
    assert delivered(wechat_server, openid) == []


@pytest.mark.parametrize(("endpoint", "step"), [("template_send", "send"), ("token", "token")])
def test_daily_quota_is_503(
    account: OfficialAccount, wechat_server: str, openid: str, endpoint: str, step: str
) -> None:
    mock_control(wechat_server, "faults", {"endpoint": endpoint, "errcode": 45009, "count": 1})
    err = error_of(lambda: account.send_template(openid, TEMPLATE, None, {}))
    assert (err.code, err.status) == ("wechat_quota_exceeded", 503)
    assert err.details == {"wechat_errcode": 45009, "step": step}


def test_wrong_secret_fails_once_without_retrying(
    wechat_server: str, services: Services, clock: FixedClock, openid: str
) -> None:
    http = CountingSession()
    account = OfficialAccount(APPID, "wrong", wechat_server, services.store, clock, 5.0, http=http)
    err = error_of(lambda: account.send_template(openid, TEMPLATE, None, {}))
    assert (err.code, err.status) == ("wechat_push_failed", 502)
    assert err.details == {"wechat_errcode": 40001, "step": "token"} and http.calls == {"token": 1}
    assert "wrong" not in repr(account) and services.store.get_json(account.token_key) is None


def test_system_busy_and_unreachable_wechat_are_unavailable(
    account: OfficialAccount, wechat_server: str, services: Services, clock: FixedClock, openid: str
) -> None:
    mock_control(wechat_server, "faults", {"endpoint": "template_send", "errcode": -1, "count": 1})
    assert error_of(lambda: account.send_template(openid, TEMPLATE, None, {})).code == "wechat_push_unavailable"
    # Port 1: nothing listens there, so the connection is refused at once.
    gone = OfficialAccount("wx_unreachable", SECRET, "http://127.0.0.1:1/", services.store, clock, 2.0)
    err = error_of(lambda: gone.send_template(openid, TEMPLATE, None, {}))
    assert (err.code, err.status, err.details) == ("wechat_push_unavailable", 502, {"step": "token"})
    assert SECRET not in str(err.to_dict())


def test_redis_down_is_store_unavailable(wechat_server: str, clock: FixedClock, openid: str) -> None:
    dead = Store(redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=1), "idsvc-test-dead")
    account = OfficialAccount(APPID, SECRET, wechat_server, dead, clock, 2.0)
    err = error_of(lambda: account.send_template(openid, TEMPLATE, None, {}))
    assert (err.code, err.status) == ("store_unavailable", 503)
