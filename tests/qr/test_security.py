"""Regression tests for issue #9 items 1–4 in the qr feature, over real HTTP, Redis and SQL.

1. consume reads its body whatever the framing (chunked included); ``member_id: ""`` → 400; a
   non-ASCII member id is compared as bytes (409, never 500).
2. an OAuth code is never served to another ``state`` (a leaked code replayed under an attacker's
   state is refused and audited).
3. (``test_verifying_deadline.py``) a session being verified does not expire under its analysis.
4. with the SQLite file locked, cancel / confirm / scan / consume answer 503 within the busy
   timeout, Redis is unchanged, and the retry after unlock succeeds.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from idsvc.core.db import AuditEntry
from idsvc.qr import service
from idsvc.qr.verify import Analysis
from tests.conftest import DATABASE_URL
from tests.qr.phone import Desktop, Phone

pytestmark = pytest.mark.integration

FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200


@pytest.fixture
def passing_analyser(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every video passes (the real analysis is tested in test_video_verification.py)."""
    qs = app.extensions[service.EXTENSION]
    monkeypatch.setattr(qs, "analyser", lambda *_: Analysis(True, None, {"message": "验证通过"}))


def scanned(desktop: Desktop, openid: str = "o_member") -> tuple[dict[str, Any], Phone, str]:
    s = desktop.create()
    phone = Phone(openid)
    page = phone.scan(s["scan_url"])
    assert page.status_code == 200, page.text
    return s, phone, Phone.csrf(page.text)


def verified(desktop: Desktop, live_server: str) -> dict[str, Any]:
    s, phone, csrf = scanned(desktop)
    assert phone.confirm(live_server, s["session_id"], s["match_code"], csrf).json()["status"] == "confirmed"
    r = phone.http.post(
        f"{live_server}/m/sessions/{s['session_id']}/video",
        files={"video": ("v.mp4", FAKE_MP4, "video/mp4")},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        timeout=30,
    )
    assert r.status_code == 200 and r.json()["status"] == "verified", r.text
    return s


def chunked(payload: bytes) -> Iterator[bytes]:
    """A generator body: requests sends it with Transfer-Encoding: chunked and no Content-Length."""
    for i in range(0, len(payload), 7):
        yield payload[i : i + 7]


def consume(live_server: str, key: str, s: dict[str, Any], raw: bytes | None, *, chunk: bool) -> requests.Response:
    headers = {"Authorization": key}
    if raw is not None:
        headers["Content-Type"] = "application/json"
    body: Any = None if raw is None else (chunked(raw) if chunk else raw)
    return requests.post(f"{live_server}/v1/sessions/{s['session_id']}/consume", data=body, headers=headers, timeout=20)


# -- #9.1 ---------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("passing_analyser")
def test_chunked_consume_body_is_checked(desktop: Desktop, live_server: str) -> None:
    s = verified(desktop, live_server)
    wrong = json.dumps({"member_id": "B", "purpose": "login"}).encode()
    r = consume(live_server, desktop.api_key, s, wrong, chunk=True)
    assert r.status_code == 409 and r.json()["error"]["code"] == "member_mismatch", r.text
    r = consume(live_server, desktop.api_key, s, json.dumps({"purpose": "transfer"}).encode(), chunk=True)
    assert r.status_code == 409 and r.json()["error"]["code"] == "purpose_mismatch"
    assert desktop.poll(s).json()["consumed_at"] is None
    right = json.dumps({"member_id": "m-1001", "purpose": "login"}).encode()
    r = consume(live_server, desktop.api_key, s, right, chunk=True)
    assert r.status_code == 200 and r.json()["consumed_at"], r.text


@pytest.mark.usefixtures("passing_analyser")
def test_empty_chunked_body_means_no_checks(desktop: Desktop, live_server: str) -> None:
    s = verified(desktop, live_server)
    r = consume(live_server, desktop.api_key, s, b"", chunk=True)
    assert r.status_code == 200 and r.json()["consumed_at"], r.text


@pytest.mark.usefixtures("passing_analyser")
@pytest.mark.parametrize("chunk", [False, True])
@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b'{"member_id": ""}', 400, "invalid_input"),
        (b'{"member_id": "   "}', 400, "invalid_input"),
        (b'{"member_id": 7}', 400, "invalid_input"),
        (b'{"purpose": ""}', 400, "invalid_input"),
        ('{"member_id": "会员001"}'.encode(), 409, "member_mismatch"),
        (b'{"member_id": "\\ud800"}', 400, "invalid_json"),
        (b'{"purpose": "\\udfff"}', 400, "invalid_json"),
        (b"[1]", 400, "invalid_json"),
        (b"{oops", 400, "invalid_json"),
    ],
)
def test_consume_bad_member_or_purpose(
    desktop: Desktop, live_server: str, raw: bytes, status: int, code: str, chunk: bool
) -> None:
    s = verified(desktop, live_server)
    r = consume(live_server, desktop.api_key, s, raw, chunk=chunk)
    assert r.status_code == status and r.json()["error"]["code"] == code, r.text
    assert desktop.poll(s).json()["consumed_at"] is None


# -- #9.2 ---------------------------------------------------------------------------------------------


def test_code_replayed_under_another_state_is_refused_and_audited(
    desktop: Desktop, live_server: str, services: Any
) -> None:
    victim_session = desktop.create()
    victim = Phone("o_victim")
    assert victim.scan(victim_session["scan_url"]).status_code == 200
    leaked = requests.utils.urlparse(victim.last_callback).query  # "code=…&state=…"
    victim_code = dict(p.split("=", 1) for p in leaked.split("&"))["code"]

    attacker_session = desktop.create()
    attacker = Phone("o_attacker")
    r = attacker.open(attacker_session["scan_url"])
    auth = attacker.open(r.headers["Location"].split("#")[0])
    own_callback = auth.headers["Location"]
    own_code = dict(p.split("=", 1) for p in own_callback.split("?", 1)[1].split("&"))["code"]
    replay = own_callback.replace(f"code={own_code}", f"code={victim_code}")
    r = attacker.http.get(replay, headers={"Accept": "application/json"}, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "oauth_state_invalid", r.text
    assert desktop.poll(attacker_session).json()["status"] == "pending"
    with services.db.session() as db:
        replays = [e for e in db.query(AuditEntry) if e.event == "session.oauth_code_replayed"]
    assert len(replays) == 1 and replays[0].subject == f"session:{attacker_session['session_id']}"
    # The attacker's state is now spent: not even its own code gets through.
    assert attacker.open(own_callback).status_code == 400
    # The victim's twin callback still works (same state, same code).
    assert victim.open(victim.last_callback).status_code == 302


def test_oauth_errors_have_their_own_code(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_state")
    phone.scan(s["scan_url"])
    forged = phone.last_callback.replace("code=", "code=X")
    r = phone.http.get(forged, headers={"Accept": "application/json"}, allow_redirects=False, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == "oauth_state_invalid"


# -- #9.4 ---------------------------------------------------------------------------------------------


@pytest.fixture
def sqlite_lock(settings: Any) -> Iterator[Any]:
    """A second connection that can hold the SQLite file's write lock (BEGIN EXCLUSIVE)."""
    if DATABASE_URL:
        pytest.skip("locks the SQLite file")
    path = settings.database_url.split("///", 1)[1]

    class Lock:
        conn: sqlite3.Connection | None = None

        def hold(self) -> None:
            self.conn = sqlite3.connect(path, isolation_level=None, timeout=10)
            self.conn.execute("BEGIN EXCLUSIVE")

        def release(self) -> None:
            if self.conn is not None:
                self.conn.execute("ROLLBACK")
                self.conn.close()
                self.conn = None

    lock = Lock()
    yield lock
    lock.release()


def stored(services: Any, s: dict[str, Any]) -> Any:
    return services.store.redis.get(services.store.key("qr", "session", s["session_id"]))


def audit_count(services: Any) -> int:
    with services.db.session() as db:
        return db.query(AuditEntry).count()


def test_cancel_with_database_locked_is_503_and_changes_nothing(
    desktop: Desktop, live_server: str, services: Any, sqlite_lock: Any
) -> None:
    s = desktop.create()
    before, entries = stored(services, s), audit_count(services)
    url = f"{live_server}/v1/sessions/{s['session_id']}"
    sqlite_lock.hold()
    r = requests.delete(url, headers={"Authorization": f"Bearer {s['poll_token']}"}, timeout=20)
    assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable", r.text
    assert stored(services, s) == before
    sqlite_lock.release()
    assert audit_count(services) == entries
    r = requests.delete(url, headers={"Authorization": f"Bearer {s['poll_token']}"}, timeout=20)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert audit_count(services) == entries + 1


def test_confirm_with_database_locked_is_503_and_changes_nothing(
    desktop: Desktop, live_server: str, services: Any, sqlite_lock: Any
) -> None:
    s, phone, csrf = scanned(desktop)
    before = stored(services, s)
    sqlite_lock.hold()
    r = phone.confirm(live_server, s["session_id"], s["match_code"], csrf)
    assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable", r.text
    assert stored(services, s) == before
    sqlite_lock.release()
    r = phone.confirm(live_server, s["session_id"], s["match_code"], csrf)
    assert r.status_code == 200 and r.json()["status"] == "confirmed"


def test_scan_with_database_locked_is_503_and_the_twin_callback_then_works(
    desktop: Desktop, live_server: str, services: Any, sqlite_lock: Any
) -> None:
    s = desktop.create()
    phone = Phone("o_locked")
    r = phone.open(s["scan_url"])
    callback = phone.open(r.headers["Location"].split("#")[0]).headers["Location"]
    before = stored(services, s)
    sqlite_lock.hold()
    r = phone.open(callback)
    assert r.status_code == 503 and "服务暂时不可用" in r.text
    assert stored(services, s) == before
    sqlite_lock.release()
    assert phone.open(callback).status_code == 302
    assert desktop.poll(s).json()["status"] == "scanned"


@pytest.mark.usefixtures("passing_analyser")
def test_consume_with_database_locked_is_503_and_the_retry_consumes(
    desktop: Desktop, live_server: str, services: Any, sqlite_lock: Any
) -> None:
    s = verified(desktop, live_server)
    before = stored(services, s)
    body = json.dumps({"member_id": "m-1001", "purpose": "login"}).encode()
    sqlite_lock.hold()
    r = consume(live_server, desktop.api_key, s, body, chunk=False)
    assert r.status_code == 503 and r.json()["error"]["code"] == "store_unavailable", r.text
    assert stored(services, s) == before
    sqlite_lock.release()
    r = consume(live_server, desktop.api_key, s, body, chunk=False)
    assert r.status_code == 200 and r.json()["consumed_at"], r.text
    with services.db.session() as db:
        assert [e.event for e in db.query(AuditEntry)].count("session.consumed") == 1
