"""Single use under contention: many threads, one code, exactly one winner."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests

from mock_wechat.testing import FakeClock

THREADS = 20


class SlowClock(FakeClock):
    """Yields the GIL on every reading, widening any gap between "is it used?" and "mark used"
    so a missing lock shows up as more than one winner instead of passing by luck."""

    def __call__(self) -> float:
        time.sleep(0.02)
        return super().__call__()


@pytest.fixture
def fake_clock() -> FakeClock:  # overrides conftest's for this module
    return SlowClock()


def test_twenty_threads_one_code_exactly_one_success(
    wechat_server: str, creds: Any, get_code: Callable[..., str]
) -> None:
    code = get_code(headers={"X-Mock-Openid": "o_race"})
    params = {"appid": creds.appid, "secret": creds.secret, "code": code, "grant_type": "authorization_code"}
    start = threading.Barrier(THREADS)

    def exchange(_: int) -> dict[str, Any]:
        with requests.Session() as session:  # one connection per thread, like separate idsvc workers
            start.wait(timeout=10)
            return session.get(f"{wechat_server}/sns/oauth2/access_token", params=params, timeout=10).json()

    with ThreadPoolExecutor(THREADS) as pool:
        results = list(pool.map(exchange, range(THREADS)))
    assert all("errcode" in r or "access_token" in r for r in results), results

    outcomes = Counter(r.get("errcode", 0) for r in results)
    assert outcomes == {0: 1, 40163: THREADS - 1}
    winner = next(r for r in results if "access_token" in r)
    assert winner["openid"] == "o_race"


def test_concurrent_authorisations_get_distinct_codes_for_their_own_openids(
    wechat_server: str, creds: Any, get_code: Callable[..., str]
) -> None:
    def run(i: int) -> tuple[str, str]:
        openid = f"o_user{i}"
        code = get_code(headers={"X-Mock-Openid": openid})
        params = {"appid": creds.appid, "secret": creds.secret, "code": code, "grant_type": "authorization_code"}
        body = requests.get(f"{wechat_server}/sns/oauth2/access_token", params=params, timeout=10).json()
        return openid, body["openid"]

    with ThreadPoolExecutor(THREADS) as pool:
        pairs = list(pool.map(run, range(THREADS)))
    assert all(asked == got for asked, got in pairs)
