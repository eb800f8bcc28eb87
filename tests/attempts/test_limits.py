"""Per-member limits on failed face verifications (#16): windows, the China-time day, concurrency,
unlock (HTTP and CLI), audit — against real Redis and SQL, with a controllable clock."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import idsvc.cli
from idsvc.attempts import FaceAttempts, counts_against_member
from idsvc.core.clock import FixedClock
from idsvc.core.db import AuditEntry
from idsvc.core.errors import IdsvcError

pytestmark = pytest.mark.integration

CHINA = ZoneInfo("Asia/Shanghai")
# 2026-12-02 10:00 China time.
T0 = datetime(2026, 12, 2, 10, 0, tzinfo=CHINA).timestamp()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def attempts(services: Any, settings: Any, clock: FixedClock) -> FaceAttempts:
    return FaceAttempts(services.store, services.db, settings, clock)


def fail(attempts: FaceAttempts, n: int = 1, reason: str = "face_mismatch", member: str = "m-1") -> None:
    for i in range(n):
        attempts.record_failure(member, reason, session_id=f"s{i}", actor="wechat:o1")


def audit_events(services: Any, event: str) -> list[AuditEntry]:
    with services.db.session() as db:
        return list(db.execute(select(AuditEntry).where(AuditEntry.event == event)).scalars())


def test_five_counted_failures_in_fifteen_minutes_lock_for_thirty(attempts: FaceAttempts, clock: FixedClock) -> None:
    fail(attempts, 4)
    assert not attempts.state("m-1").locked
    attempts.check("m-1")  # no error
    clock.advance(60)
    fail(attempts, 1, "challenge_not_performed")
    state = attempts.state("m-1")
    assert state.locked and state.kind == "window"
    assert state.until == pytest.approx(T0 + 60 + 1800)
    with pytest.raises(IdsvcError) as exc:
        attempts.check("m-1")
    assert (exc.value.status, exc.value.code) == (429, "verification_locked")
    assert exc.value.details["retry_after"] == 1800
    clock.advance(1799)
    assert attempts.state("m-1").locked
    clock.advance(1)
    assert not attempts.state("m-1").locked


def test_failures_older_than_the_window_do_not_count(attempts: FaceAttempts, clock: FixedClock) -> None:
    fail(attempts, 1)
    clock.advance(900.5)  # the first failure is now just outside the 15 minutes
    fail(attempts, 4)
    state = attempts.state("m-1")
    assert not state.locked and state.failures_in_window == 4


def test_failures_that_say_nothing_about_identity_do_not_count(attempts: FaceAttempts) -> None:
    for reason in ("too_dark", "no_face", "video_invalid", "too_blurry", "face_too_small", "too_short"):
        fail(attempts, 2, reason)
    state = attempts.state("m-1")
    assert not state.locked and state.failures_in_window == 0 and state.failures_today == 0
    for reason in (
        "face_mismatch",
        "static_image",
        "identity_changed",
        "light_challenge_failed",
        "challenge_not_performed",
    ):
        assert counts_against_member(reason)
    assert counts_against_member("some_future_reason")  # unknown reasons count (fail safe)


def test_ten_in_a_china_day_lock_until_midnight_china_time(attempts: FaceAttempts, clock: FixedClock) -> None:
    for _ in range(9):
        fail(attempts, 1)
        clock.advance(20 * 60)  # 20 minutes apart: the 15-minute window never reaches 5
    assert not attempts.state("m-1").locked
    fail(attempts, 1)
    state = attempts.state("m-1")
    assert state.locked and state.kind == "daily" and state.failures_today == 10
    midnight = datetime(2026, 12, 3, 0, 0, tzinfo=CHINA).timestamp()
    assert state.until == pytest.approx(midnight)
    clock.now = midnight - 1
    assert attempts.state("m-1").locked
    clock.now = midnight
    state = attempts.state("m-1")
    assert not state.locked and state.failures_today == 0  # a new day in China, whatever UTC says


def test_concurrent_failures_are_all_counted(attempts: FaceAttempts) -> None:
    threads = [threading.Thread(target=fail, args=(attempts, 1, "face_mismatch", "m-9")) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    state = attempts.state("m-9")
    assert state.failures_today == 10 and state.failures_in_window == 10 and state.locked


def test_locks_failures_and_unlocks_are_audited(attempts: FaceAttempts, services: Any) -> None:
    fail(attempts, 5)
    assert len(audit_events(services, "member.face_failure")) == 5
    assert len(audit_events(services, "member.face_locked")) == 1
    attempts.unlock("m-1", "platform:portal", "member called the hotline")
    assert not attempts.state("m-1").locked
    (entry,) = audit_events(services, "member.face_unlocked")
    assert entry.actor == "platform:portal" and entry.data["why"] == "member called the hotline"
    assert entry.data["was_locked"] is True


def test_unlock_over_http(client: Any, platform_key: str, make_key: Any, make_member: Any, app: Any) -> None:
    make_member()
    service: FaceAttempts = app.extensions["idsvc.attempts"]
    fail(service, 5, member="m-1001")
    assert service.state("m-1001").locked
    path = "/v1/members/m-1001/unlock"
    assert client.post(path, json={"why": "x"}, headers={"Authorization": make_key("local", "11")}).status_code == 403
    missing = client.post(path, json={}, headers={"Authorization": platform_key})
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (400, "unlock_reason_required")
    unknown = client.post("/v1/members/nobody/unlock", json={"why": "x"}, headers={"Authorization": platform_key})
    assert unknown.status_code == 404
    ok = client.post(path, json={"why": "verified by phone"}, headers={"Authorization": platform_key})
    assert ok.status_code == 200
    assert ok.get_json()["face_verification"]["locked"] is False


def test_unlock_from_the_command_line(services: Any, settings: Any, make_member: Any) -> None:
    make_member()
    service = FaceAttempts(services.store, services.db, settings, services.clock)
    fail(service, 5, member="m-1001")
    result = CliRunner().invoke(
        idsvc.cli.cli, ["member", "unlock", "--member-id", "m-1001", "--why", "desk check"], obj=services
    )
    assert result.exit_code == 0, result.output
    assert not service.state("m-1001").locked
    assert audit_events(services, "member.face_unlocked")[0].actor == "cli"


def test_member_view_shows_the_lock_to_platform_and_reviewers(
    client: Any, platform_key: str, make_key: Any, make_member: Any, app: Any
) -> None:
    make_member()  # association 11
    fail(app.extensions["idsvc.attempts"], 5, member="m-1001")
    for key in (platform_key, make_key("national"), make_key("local", "11")):
        view = client.get("/v1/members/m-1001", headers={"Authorization": key})
        assert view.status_code == 200, view.get_json()
        lock = view.get_json()["face_verification"]
        assert lock["locked"] is True and lock["kind"] == "window" and lock["retry_after"] > 0
    other = client.get("/v1/members/m-1001", headers={"Authorization": make_key("local", "31")})
    assert other.status_code == 404
    assert client.get("/v1/members/m-1001").status_code == 401  # nothing for an unauthenticated caller
