"""Failure injection (issue #9): Redis refusing, Redis hanging, the SQLite database locked or gone.

Each request answers within a few seconds: 503 ``store_unavailable`` when it needs the missing
store, or its normal answer when it does not (ID changes and document checks live in SQL only, and
need no Redis).  Afterwards the audit chain verifies.
"""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from idsvc.core import audit
from idsvc.core.services import Services
from tests.factories.hostile_files import plain_png
from tests.hostile.support import assert_error_shape

BUDGET_S = 5.0

# A Redis that accepts connections and never answers: a listening socket nobody reads from.
_HANGING = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
_HANGING.bind(("127.0.0.1", 0))
_HANGING.listen(64)
HANGING_REDIS = f"redis://127.0.0.1:{_HANGING.getsockname()[1]}/0"
REFUSING_REDIS = "redis://127.0.0.1:1/0"


def _requests(base: str, keys: dict[str, str]) -> dict[str, Callable[[], requests.Response]]:
    def post_json(path: str, body: dict[str, Any], key: str) -> Callable[[], requests.Response]:
        return lambda: requests.post(base + path, json=body, headers={"Authorization": key}, timeout=BUDGET_S)

    def get(path: str, key: str) -> Callable[[], requests.Response]:
        return lambda: requests.get(base + path, headers={"Authorization": key}, timeout=BUDGET_S)

    return {
        "create_session": post_json("/v1/sessions", {"member_id": "m-1001"}, keys["platform"]),
        "list_id_changes": get("/v1/id-changes", keys["national"]),
        "member": get("/v1/members/m-1001", keys["platform"]),
        "signature_check": lambda: requests.post(
            base + "/v1/documents/signature/check",
            files={"image": ("s.png", plain_png(), "image/png")},
            headers={"Authorization": keys["platform"]},
            timeout=BUDGET_S,
        ),
        "readyz": lambda: requests.get(base + "/readyz", timeout=BUDGET_S),
    }


NEEDS_REDIS = {"create_session", "readyz"}


@pytest.fixture
def keys(make_key: Callable[..., str], make_member: Any) -> dict[str, str]:
    make_member(id_record=True)
    return {"platform": make_key("platform"), "national": make_key("national")}


def _check_all(
    live_server: str, keys: dict[str, str], broken: set[str], only: set[str] | None = None
) -> dict[str, int]:
    seen: dict[str, int] = {}
    for name, call in _requests(live_server, keys).items():
        if only is not None and name not in only:
            continue
        try:
            response = call()
        except requests.Timeout:
            pytest.fail(f"{name}: no answer within {BUDGET_S} s")
        seen[name] = response.status_code
        if name in broken:
            if name == "readyz":
                assert response.status_code == 503, (name, response.text[:200])
            else:
                assert assert_error_shape(response, 503)["code"] == "store_unavailable", name
        else:
            assert response.status_code < 300, (name, response.status_code, response.text[:200])
    return seen


def _chain_ok(services: Services) -> None:
    with services.db.session() as db:
        report = audit.verify(db)
    assert report.ok, report


@pytest.mark.integration
@pytest.mark.settings(redis_url=REFUSING_REDIS)
def test_redis_refusing(live_server: str, services: Services, keys: dict[str, str]) -> None:
    _check_all(live_server, keys, NEEDS_REDIS)
    _chain_ok(services)


@pytest.mark.integration
@pytest.mark.settings(redis_url=HANGING_REDIS)
def test_redis_hanging_sql_features_work(live_server: str, services: Services, keys: dict[str, str]) -> None:
    _check_all(live_server, keys, set(), only={"list_id_changes", "member", "signature_check"})
    _chain_ok(services)


@pytest.mark.integration
@pytest.mark.settings(redis_url=HANGING_REDIS)
def test_redis_hanging_redis_features_answer_503_quickly(
    live_server: str, services: Services, keys: dict[str, str]
) -> None:
    _check_all(live_server, keys, NEEDS_REDIS, only=NEEDS_REDIS)
    _chain_ok(services)


@pytest.fixture
def locked_db(settings: Any) -> Iterator[None]:
    """Another connection holds the SQLite write lock (BEGIN EXCLUSIVE) for the test's length."""
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("SQLite locking")
    conn = sqlite3.connect(settings.database_url.split("///", 1)[1], isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN EXCLUSIVE")
    yield
    conn.execute("ROLLBACK")
    conn.close()


@pytest.mark.integration
def test_database_locked(live_server: str, services: Services, keys: dict[str, str], locked_db: None) -> None:
    """Requests that need the database answer 503 within seconds; the SQL-free signature check keeps
    working (keys are read in a DEFERRED transaction, and the key-use audit marker is best effort)."""
    seen = _check_all(live_server, keys, {"create_session", "list_id_changes", "member", "readyz"})
    assert seen["signature_check"] == 200


@pytest.mark.integration
def test_database_gone(live_server: str, services: Services, keys: dict[str, str], settings: Any) -> None:
    """The database file's directory becomes unreadable mid-run: every keyed request is a 503."""
    import os
    import stat

    if not settings.database_url.startswith("sqlite") or os.geteuid() == 0:
        pytest.skip("needs SQLite and a non-root user (root ignores directory permissions)")
    services.db.dispose()
    folder = os.path.dirname(settings.database_url.split("///", 1)[1])
    os.chmod(folder, 0)
    try:
        _check_all(live_server, keys, {"create_session", "list_id_changes", "member", "signature_check"})
    finally:
        os.chmod(folder, stat.S_IRWXU)
    _chain_ok(services)
