"""QrSessions with its collaborators given in the constructor: a controllable clock, a scripted
analyser, the real Redis and SQL (issue #9 items 3 and 4, issue #8 items 3 and 5)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from idsvc.core.clock import FixedClock
from idsvc.core.db import AuditEntry, Member
from idsvc.core.errors import IdsvcError
from idsvc.qr import sessions as sm
from idsvc.qr.challenges import instruction
from idsvc.qr.service import QrSessions
from idsvc.qr.verify import Analysis
from tests.conftest import DATABASE_URL

T0 = 1_800_000_000.0
TTL = 300
VIDEO = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64


class Script:
    """An analyser whose behaviour the test sets: ``during`` runs while the "analysis" is going on."""

    def __init__(self) -> None:
        self.result = Analysis(True, None, {"measurements": {"match": {"distance": 0.31}}})
        self.during: Callable[[], None] = lambda: None
        self.challenges: list[Any] = []

    def __call__(self, member_id: str, video: bytes, suffix: str, challenge: Any) -> Analysis:
        self.challenges.append(challenge)
        self.during()
        return self.result


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(T0)


@pytest.fixture
def script() -> Script:
    return Script()


@pytest.fixture
def qs(services: Any, clock: FixedClock, script: Script, make_member: Any) -> QrSessions:
    make_member(id_record=True)
    picks = iter(
        [
            {
                "kind": "sequence",
                "version": 1,
                "duration_s": 3.0,
                "light": None,
                "actions": [{"action": "nod", "prompt_s": 0.0}, {"action": "blink", "prompt_s": 1.5}],
                "n": i,
            }
            for i in range(100)
        ]
    )
    return QrSessions(
        store=services.store,
        db=services.db,
        notifier=services.notifier,
        settings=services.settings.replace(session_ttl=TTL),
        clock=clock,
        pick_challenge=lambda: next(picks),
        analyser=script,
    )


def confirmed(qs: QrSessions, openid: str = "o1") -> sm.Session:
    s, _ = qs.create("test", "m-1001", "login", {"ip": "", "user_agent": ""})
    qs.scan(s.session_id, openid)
    return qs.confirm(s.session_id, openid, s.match_code)


def events(services: Any, sid: str) -> list[AuditEntry]:
    with services.db.session() as db:
        return [e for e in db.query(AuditEntry).order_by(AuditEntry.seq) if e.subject == f"session:{sid}"]


def test_challenge_is_opaque_and_passed_through(qs: QrSessions, script: Script) -> None:
    s = confirmed(qs)
    assert s.challenge == {
        "kind": "sequence",
        "version": 1,
        "duration_s": 3.0,
        "light": None,
        "actions": [{"action": "nod", "prompt_s": 0.0}, {"action": "blink", "prompt_s": 1.5}],
        "n": 0,
    }
    assert qs.get(s.session_id).challenge == s.challenge  # stored and read back as given
    script.result = Analysis(False, "too_dark")
    again, _ = qs.verify_video(s.session_id, "o1", VIDEO)
    assert script.challenges == [
        {
            "kind": "sequence",
            "version": 1,
            "duration_s": 3.0,
            "light": None,
            "actions": [{"action": "nod", "prompt_s": 0.0}, {"action": "blink", "prompt_s": 1.5}],
            "n": 0,
        }
    ]
    assert again.status == "confirmed" and again.challenge["n"] == 1
    zh, en = instruction(again.challenge)
    assert zh and en  # the text comes from the liveness feature


def test_analysis_begun_in_time_is_not_expired_by_a_poll_after_the_deadline(
    qs: QrSessions, clock: FixedClock, script: Script, services: Any
) -> None:
    s = confirmed(qs)
    clock.advance(TTL - 0.5)  # the upload arrives 0.5 s before the deadline
    polled: list[str] = []

    def analysis_takes_time() -> None:
        clock.advance(1.0)  # the deadline passes during the analysis
        polled.append(qs.get(s.session_id).status)  # the desktop polls

    script.during = analysis_takes_time
    done, analysis = qs.verify_video(s.session_id, "o1", VIDEO)
    assert polled == ["verifying"]
    assert done.status == "verified" and analysis.passed
    assert qs.get(s.session_id).status == "verified"
    trail = [e.event for e in events(services, s.session_id)]
    assert trail[-2:] == ["session.verifying", "session.verified"] and "session.expired" not in trail
    decision = events(services, s.session_id)[-1].data
    assert decision["match_distance"] == 0.31 and decision["attempt"] == 1
    with services.db.session() as db:
        assert db.get(Member, "m-1001").openid == "o1"


def test_a_decision_that_comes_too_late_is_still_audited(
    qs: QrSessions, clock: FixedClock, script: Script, services: Any
) -> None:
    s = confirmed(qs)
    clock.advance(TTL - 0.5)

    def worker_stalls() -> None:
        clock.advance(sm.VERIFY_GRACE + 1)
        # Past the grace the lost analysis fails the session as analysis_error (never hangs).
        stuck = qs.get(s.session_id)
        assert (stuck.status, stuck.failure) == ("failed", "analysis_error")

    script.during = worker_stalls
    with pytest.raises(IdsvcError) as e:
        qs.verify_video(s.session_id, "o1", VIDEO)
    assert e.value.code == "invalid_state"
    last = events(services, s.session_id)[-1]
    assert last.event == "session.decision_discarded" and last.data["passed"] is True
    assert last.data["match_distance"] == 0.31


def test_a_crashing_analyser_does_not_leave_the_session_verifying(qs: QrSessions, script: Script) -> None:
    s = confirmed(qs)

    def crash() -> None:
        raise RuntimeError("bug")

    script.during = crash
    done, analysis = qs.verify_video(s.session_id, "o1", VIDEO)
    assert done.status == "confirmed" and analysis.reason == "analysis_error" and done.attempts == 1


def test_every_transition_with_the_database_locked_is_503_and_leaves_redis_alone(
    qs: QrSessions, services: Any, settings: Any, script: Script
) -> None:
    if DATABASE_URL:
        pytest.skip("locks the SQLite file")
    s = confirmed(qs)
    verified, _ = qs.verify_video(s.session_id, "o1", VIDEO)
    fresh, _ = qs.create("test", "m-1001", "login", {"ip": "", "user_agent": ""})
    key = services.store.key("qr", "session", verified.session_id)
    before = services.store.redis.get(key)
    conn = sqlite3.connect(settings.database_url.split("///", 1)[1], isolation_level=None, timeout=10)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        for attempt in (
            lambda: qs.consume(verified.session_id, "platform:test", "login", "m-1001"),
            lambda: qs.cancel(fresh.session_id, "desktop"),
            lambda: qs.scan(fresh.session_id, "o2"),
            lambda: qs.create("test", "m-1001", "login", {"ip": "", "user_agent": ""}),
        ):
            with pytest.raises(IdsvcError) as e:
                attempt()
            assert e.value.code == "store_unavailable" and e.value.status == 503
        assert services.store.redis.get(key) == before
        assert qs.get(fresh.session_id).status == "pending"
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert qs.consume(verified.session_id, "platform:test", "login", "m-1001").consumed_at is not None
    assert qs.get(fresh.session_id).version == 1


def test_member_sessions_set_always_has_a_ttl(qs: QrSessions, services: Any) -> None:
    s, _ = qs.create("test", "m-1001", "login", {"ip": "", "user_agent": ""})
    key = services.store.key("qr", "member", "m-1001")
    assert s.session_id in services.store.members(key)
    assert 0 < services.store.redis.ttl(key) <= TTL + services.settings.session_retention
    assert qs.cancel_open_for_member("m-1001", "system") == [s.session_id]


def test_qr_reaches_redis_only_through_store() -> None:
    from pathlib import Path

    import idsvc.qr

    package = Path(idsvc.qr.__file__).parent
    offenders = [
        f"{path.name}:{n}"
        for path in sorted(package.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if ".redis" in line or "import redis" in line
    ]
    assert not offenders, offenders


class Held:
    """A job queue that holds what was enqueued, so the test delivers each job itself (twice)."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, dict[str, Any]]] = []

    def register(self, name: str, handler: Any) -> None:
        pass

    def enqueue(self, name: str, **kwargs: Any) -> None:
        self.jobs.append((name, kwargs))

    def close(self) -> None:
        pass


def test_a_job_delivered_twice_decides_once(qs: QrSessions, script: Script, services: Any) -> None:
    """A worker that dies after deciding but before acknowledging gets its job re-delivered."""
    queue = Held()
    qs.queue = queue
    s = confirmed(qs)
    assert qs.submit_video(s.session_id, "o1", VIDEO).status == "verifying"
    ((name, job),) = queue.jobs
    assert name == "qr.verify_video" and job["attempt"] == 1
    qs.run_verification(**job)
    qs.run_verification(**job)  # the second delivery
    assert qs.get(s.session_id).status == "verified"
    assert len(script.challenges) == 1  # analysed once
    trail = [e.event for e in events(services, s.session_id)]
    assert trail.count("session.verified") == 1 and "session.decision_discarded" not in trail
    # The raw video did not outlive the decision.
    assert services.store.get_blob(services.store.key("qr", "video", s.session_id, "1")) is None


def test_a_job_whose_video_is_gone_fails_the_attempt_not_the_member(qs: QrSessions, script: Script) -> None:
    """The video's TTL ran out before any worker took the job (all workers down for minutes)."""
    queue = Held()
    qs.queue = queue
    s = confirmed(qs)
    qs.submit_video(s.session_id, "o1", VIDEO)
    ((_, job),) = queue.jobs
    qs.store.delete_quietly(qs.store.key("qr", "video", s.session_id, "1"))
    qs.run_verification(**job)
    after = qs.get(s.session_id)
    assert script.challenges == []  # nothing to analyse
    assert after.status == "confirmed" and after.last_reason == "analysis_error"  # may record again
