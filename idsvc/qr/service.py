"""QR verification sessions: the state machine of ``sessions.py`` stored in Redis and audited in SQL.

Every transition is written in this order: the audit entry goes into an open SQL transaction
first, then the new record to Redis (a WATCH/MULTI compare-and-set), then the SQL transaction
commits.  If SQL cannot take the entry (locked, gone) the caller gets 503 ``store_unavailable`` and
Redis is untouched; if Redis loses the race the SQL transaction rolls back and the step is decided
again; if the commit fails after Redis changed, Redis is put back.  So Redis never says what the
audit log does not (``Store.update_json_durably``).
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from threading import Event
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session as DbSession

from idsvc.core import audit
from idsvc.core.clock import Clock
from idsvc.core.db import Database, IdRecord, Member, utcnow
from idsvc.core.errors import ID_RECORD_NOT_FOUND, MEMBER_NOT_FOUND, IdsvcError
from idsvc.core.events import Notifier
from idsvc.core.settings import Settings
from idsvc.core.store import Store

if TYPE_CHECKING:
    from idsvc.attempts import FaceAttempts
    from idsvc.core.jobs import JobQueue
from idsvc.qr import errors
from idsvc.qr import sessions as sm
from idsvc.qr.challenges import Picker
from idsvc.qr.errors import sql_errors_as_503
from idsvc.qr.verify import Analyser, Analysis, sniff_video

log = logging.getLogger(__name__)

MAX_WAIT = 30
MAX_SESSION_ID = 64
EXTENSION = "idsvc.qr.sessions"
JOB = "qr.verify_video"
#: The raw video waits in Redis at most this long for its worker (deleted once decided).
VIDEO_TTL = 180
#: Called after every decision (passed, reason, member, session, actor): the attempts feature counts.
DecisionHook = Callable[..., None]
#: Called before a scan is recorded, with the session and the scanning openid; it may refuse the scan
#: by raising (the session is then left unchanged).  The reverify feature requires the bound WeChat.
ScanGuard = Callable[[sm.Session, str], None]
#: Extra SQL work done in the same transaction as a transition's audit entry: (db, old, new).
SqlHook = Callable[[DbSession, sm.Session, sm.Session], None]


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class QrSessions:
    """Verification sessions; one per app (``feature.register``), collaborators given here."""

    def __init__(
        self,
        *,
        store: Store,
        db: Database,
        notifier: Notifier,
        settings: Settings,
        clock: Clock,
        pick_challenge: Picker,
        analyser: Analyser,
        attempts: FaceAttempts | None = None,
        queue: JobQueue | None = None,
        on_decided: DecisionHook | None = None,
    ) -> None:
        self.store = store
        self.db = db
        self.notifier = notifier
        self.settings = settings
        self.clock = clock
        self.pick_challenge = pick_challenge
        self.analyser = analyser
        self.attempts = attempts
        self.queue = queue
        self.on_decided = on_decided
        self.scan_guards: list[ScanGuard] = []

    # -- keys ---------------------------------------------------------------------------
    def _key(self, sid: str) -> str:
        return self.store.key("qr", "session", sid)

    def channel(self, sid: str) -> str:
        return self.store.channel("qr", sid)

    def _member_key(self, member_id: str) -> str:
        return self.store.key("qr", "member", member_id)

    @property
    def _retention(self) -> int:
        return self.settings.session_ttl + self.settings.session_retention

    # -- reads --------------------------------------------------------------------------
    def get(self, sid: str) -> sm.Session:
        """The session, moved to ``expired`` first if its time has run out; 404 when purged."""
        if not sid or len(sid) > MAX_SESSION_ID:
            raise errors.SESSION_NOT_FOUND()
        raw = self.store.get_json(self._key(sid))
        if raw is None:
            raise errors.SESSION_NOT_FOUND()
        s = sm.Session.from_json(raw)
        if sm.is_expired(s, self.clock()):
            s = self.apply(sid, lambda cur: sm.expire(cur, self.clock()), "session.expired", "system")
        return s

    def check_poll_token(self, s: sm.Session, token: str | None) -> None:
        expected = s.poll_token_hash
        if not token or not expected or not hmac.compare_digest(_digest(token), expected):
            raise errors.INVALID_POLL_TOKEN()

    @contextmanager
    def watching(self, sid: str) -> Iterator[Watch]:
        """Listen for the session's changes, then read it (so a change in between still wakes)."""
        with self.notifier.listen(self.channel(sid)) as changed:
            yield Watch(self, sid, changed)

    def wait(self, sid: str, version: int, timeout: float) -> sm.Session:
        """Answer when the version differs from ``version``, the session expires, or ``timeout`` passes."""
        with self.watching(sid) as watch:
            return watch.until_changed(version, timeout)

    # -- writes -------------------------------------------------------------------------
    def apply(
        self,
        sid: str,
        step: Callable[[sm.Session], sm.Session | None],
        event: str,
        actor: str,
        extra: dict[str, Any] | None = None,
        *,
        also: SqlHook | None = None,
    ) -> sm.Session:
        return self._apply_changed(sid, step, event, actor, extra, also=also)[0]

    def _apply_changed(
        self,
        sid: str,
        step: Callable[[sm.Session], sm.Session | None],
        event: str,
        actor: str,
        extra: dict[str, Any] | None = None,
        *,
        also: SqlHook | None = None,
    ) -> tuple[sm.Session, bool]:
        """Run one transition atomically, audited first (see the module docstring).  → (session, changed)."""

        def mutate(raw: dict[str, Any]) -> dict[str, Any] | None:
            new = step(sm.Session.from_json(raw))
            return None if new is None else new.to_json()

        @contextmanager
        def audited(old_raw: dict[str, Any], new_raw: dict[str, Any]) -> Iterator[None]:
            old, new = sm.Session.from_json(old_raw), sm.Session.from_json(new_raw)
            data: dict[str, Any] = {"status": new.status.value, "purpose": new.purpose, **(extra or {})}
            if new.failure:
                data["reason"] = new.failure
            name = "session.failed" if new.status == sm.FAILED and old.status != sm.FAILED else event
            with self.db.session() as db:
                audit.record(db, name, actor, f"session:{sid}", data)
                if also is not None:
                    also(db, old, new)
                db.flush()
                yield

        with sql_errors_as_503():
            raw, changed = self.store.update_json_durably(self._key(sid), mutate, audited, publish=self.channel(sid))
        if raw is None:
            raise errors.SESSION_NOT_FOUND()
        return sm.Session.from_json(raw), changed

    def for_member(self, member_id: str) -> list[sm.Session]:
        """The member's sessions still retained in Redis (any state), oldest first."""
        found = []
        for sid in self.store.members(self._member_key(member_id)):
            try:
                found.append(self.get(sid))
            except IdsvcError as exc:
                if exc.code != "session_not_found":
                    raise
        return sorted(found, key=lambda s: s.created_at)

    def create(
        self,
        actor: str,
        member_id: str,
        purpose: str,
        desktop: dict[str, str],
        *,
        binding: dict[str, str | None] | None = None,
    ) -> tuple[sm.Session, str]:
        """A new pending session; ``binding`` sets the re-verification fields (``action`` …)."""
        sid = secrets.token_urlsafe(16)
        poll_token = secrets.token_urlsafe(32)
        s = sm.new_session(
            sid,
            member_id,
            purpose,
            desktop,
            self.clock(),
            self.settings.session_ttl,
            poll_token_hash=_digest(poll_token),
        )
        if binding:
            s = dataclasses.replace(s, **binding)  # type: ignore[arg-type]  # only the str | None fields
        # The audit entry and the Redis record stand or fall together: Redis is written inside the
        # SQL transaction, so a Redis failure rolls the entry back (a commit failure after it leaves
        # only an unreachable pending record that expires: nobody got its poll token).
        with sql_errors_as_503(), self.db.session() as db:
            if db.get(Member, member_id) is None:
                raise MEMBER_NOT_FOUND()
            if self.attempts is not None:
                self.attempts.check(member_id)  # 429 verification_locked: no QR for a locked member
            audit.record(
                db,
                "session.created",
                actor,
                f"session:{sid}",
                {"member_id": member_id, "purpose": purpose, "desktop_ip": desktop.get("ip", ""), **(binding or {})},
            )
            db.flush()
            self.store.set_json(self._key(sid), s.to_json(), self._retention)
            self.store.add_to_set(self._member_key(member_id), sid, self._retention)
        return s, poll_token

    def scan(self, sid: str, openid: str) -> sm.Session:
        def openid_mismatch(db: DbSession, _old: sm.Session, new: sm.Session) -> None:
            member = db.get(Member, new.member_id)
            if member is not None and member.openid and not hmac.compare_digest(member.openid, openid):
                audit.record(
                    db, "session.openid_mismatch", f"wechat:{openid}", f"session:{sid}", {"member_id": new.member_id}
                )

        def step(cur: sm.Session) -> sm.Session | None:
            for guard in self.scan_guards:
                guard(cur, openid)
            return sm.scan(cur, openid, self.clock())

        # A repeated scan by the same phone changes nothing and was audited the first time.
        return self.apply(
            sid,
            step,
            "session.scanned",
            f"wechat:{openid}",
            also=openid_mismatch,
        )

    def confirm(self, sid: str, openid: str, code: str) -> sm.Session:
        current = self.get(sid)
        if current.status == sm.SCANNED and hmac.compare_digest(current.match_code.encode(), code.encode()):
            with sql_errors_as_503(), self.db.session() as db:
                member = db.get(Member, current.member_id)
                on_file = member is not None and db.get(IdRecord, member.id_number) is not None
            if not on_file:
                self.apply(
                    sid, lambda cur: sm.no_id_record(cur, openid, self.clock()), "session.failed", f"wechat:{openid}"
                )
                raise ID_RECORD_NOT_FOUND()
        challenge = self.pick_challenge()
        return self.apply(
            sid,
            lambda cur: sm.confirm(cur, openid, code, self.clock(), challenge),
            "session.confirmed",
            f"wechat:{openid}",
        )

    def consume(self, sid: str, actor: str, purpose: str | None, member_id: str | None) -> sm.Session:
        def step(cur: sm.Session) -> sm.Session:
            # Compared as bytes: any Unicode member id is a mismatch or a match, never an error.
            if member_id is not None and not hmac.compare_digest(
                cur.member_id.encode("utf-8", "surrogatepass"), member_id.encode("utf-8", "surrogatepass")
            ):
                raise errors.MEMBER_MISMATCH()
            return sm.consume(cur, purpose, self.clock())

        return self.apply(sid, step, "session.consumed", actor)

    def cancel(self, sid: str, actor: str) -> sm.Session:
        return self.apply(sid, lambda cur: sm.cancel(cur, self.clock()), "session.cancelled", actor)

    def cancel_open_for_member(self, member_id: str, actor: str) -> list[str]:
        """Cancel every non-final session of a member (e.g. after an ID-number change)."""
        cancelled = []
        for sid in sorted(self.store.members(self._member_key(member_id))):
            try:
                s = self.get(sid)
                if not s.is_final:
                    self.cancel(sid, actor)
                    cancelled.append(sid)
            except IdsvcError as exc:
                if exc.code == "store_unavailable":
                    raise
        return cancelled

    # -- the phone's video --------------------------------------------------------------
    def _video_key(self, sid: str, attempt: int) -> str:
        return self.store.key("qr", "video", sid, str(attempt))

    def submit_video(self, sid: str, openid: str, video: bytes) -> sm.Session:
        """confirmed → verifying, and the video queued for a worker; answers at once.

        The raw video waits in Redis (``VIDEO_TTL``) only until a worker has decided; the job is
        :meth:`run_verification`, idempotent per attempt.
        """
        suffix = sniff_video(video)
        s = self.get(sid)
        if self.attempts is not None:
            self.attempts.check(s.member_id)
        if self.queue is None:
            raise RuntimeError("submit_video needs a job queue")
        actor = f"wechat:{openid}"
        s = self.apply(sid, lambda cur: sm.begin_verifying(cur, openid, self.clock()), "session.verifying", actor)
        key = self._video_key(sid, s.attempts)
        try:
            self.store.put_blob(key, video, VIDEO_TTL)
            self.queue.enqueue(JOB, session_id=sid, attempt=s.attempts, suffix=suffix, openid=openid)
        except IdsvcError:
            # Queue or Redis down: the attempt was not analysed, so it is not the member's failure.
            self.store.delete_quietly(key)
            self._finish(sid, s.attempts, openid, Analysis(False, "analysis_error"))
            raise
        return s

    def run_verification(self, session_id: str, attempt: int, suffix: str, openid: str) -> None:
        """The queue job: analyse attempt ``attempt`` of ``session_id`` and record the decision.

        Delivered twice (a worker died after deciding), it decides once: a session no longer
        ``verifying`` this attempt is left alone.
        """
        key = self._video_key(session_id, attempt)
        try:
            s = self.get(session_id)
            if s.status != sm.VERIFYING or s.attempts != attempt:
                return
            video = self.store.get_blob(key)
            if video is None:
                analysis = Analysis(False, "analysis_error")
            else:
                analysis = self._analyse(session_id, s, video, suffix)
            self._finish(session_id, attempt, openid, analysis)
        finally:
            self.store.delete_quietly(key)

    def verify_video(self, sid: str, openid: str, video: bytes) -> tuple[sm.Session, Analysis]:
        """Submit and analyse in this thread (the CLI and tests): the same steps a worker runs."""
        suffix = sniff_video(video)
        s = self.get(sid)
        if self.attempts is not None:
            self.attempts.check(s.member_id)
        actor = f"wechat:{openid}"
        s = self.apply(sid, lambda cur: sm.begin_verifying(cur, openid, self.clock()), "session.verifying", actor)
        analysis = self._analyse(sid, s, video, suffix)
        return self._finish(sid, s.attempts, openid, analysis), analysis

    def _analyse(self, sid: str, s: sm.Session, video: bytes, suffix: str) -> Analysis:
        try:
            return self.analyser(s.member_id, video, suffix, s.challenge)
        except Exception:
            log.exception("video analysis crashed", extra={"fields": {"session": sid}})
            return Analysis(False, "analysis_error")

    def _finish(self, sid: str, attempt: int, openid: str, analysis: Analysis) -> sm.Session:
        """verifying → verified | confirmed (another try) | failed; the decision is audited.

        An analysis that began before the deadline finishes even if the deadline passes meanwhile
        (``sessions.deadline``).  Should the session have ended under it anyway (cancelled, or
        stuck past the grace), the decision is still audited, as ``session.decision_discarded``.
        """
        actor = f"wechat:{openid}"
        current = self.store.get_json(self._key(sid)) or {}
        member_id = str(current.get("member_id") or "")
        summary = {"challenge": current.get("challenge"), "attempt": attempt, **analysis.summary()}
        next_challenge = self.pick_challenge()
        assurance = analysis.decision.get("assurance") if analysis.passed else None

        def bind_openid(db: DbSession, _old: sm.Session, new: sm.Session) -> None:
            if new.status != sm.VERIFIED or new.action is not None:
                return  # a re-verification never binds: it requires the WeChat already bound
            member = db.get(Member, new.member_id)
            if member is not None and member.openid is None:
                member.openid, member.openid_bound_at = openid, utcnow()
                audit.record(db, "member.openid_bound", actor, f"member:{member.member_id}", {"session": sid})

        def step(cur: sm.Session) -> sm.Session | None:
            if cur.status == sm.VERIFYING and cur.attempts != attempt:
                return None  # a later attempt is under way: this decision is stale
            return sm.finish_verifying(
                cur, analysis.passed, analysis.reason, self.clock(), next_challenge, assurance=assurance
            )

        if self.on_decided is not None and member_id:
            # Counted before the session shows the outcome: a caller who sees `failed` and starts
            # again at once already meets the new count (the attempts feature's limits).
            self.on_decided(
                member_id=member_id, passed=analysis.passed, reason=analysis.reason, session_id=sid, actor=actor
            )
        try:
            s, _changed = self._apply_changed(
                sid,
                step,
                "session.verified" if analysis.passed else "session.retry",
                actor,
                summary,
                also=bind_openid,
            )
        except IdsvcError as exc:
            if exc.code == "store_unavailable":
                log.error("verification decision not recorded", extra={"fields": {"session": sid, **summary}})
                raise
            with sql_errors_as_503(), self.db.session() as db:
                audit.record(
                    db,
                    "session.decision_discarded",
                    actor,
                    f"session:{sid}",
                    {"passed": analysis.passed, "refused": exc.code, **summary},
                )
            raise
        return s


class Watch:
    """One session, read once its change notifications are being listened to, and waited on.

    A long-poll costs a Redis read when it starts and when a change is announced, never on a plain
    timeout: with thousands of desktops waiting, the timeouts are most of the traffic.  Should a
    notification be lost (the pub/sub connection dropping), the desktop's next poll reads the
    session at once and sees the change then.
    """

    def __init__(self, sessions: QrSessions, sid: str, changed: Event) -> None:
        self._sessions = sessions
        self._sid = sid
        self._changed = changed
        self.session = sessions.get(sid)

    def until_changed(self, version: int, timeout: float) -> sm.Session:
        clock = self._sessions.clock
        deadline = clock() + min(timeout, MAX_WAIT)
        while True:
            s = self.session
            remaining = deadline - clock()
            if s.version != version or remaining <= 0:
                return s
            # Also wake at expiry, so the poller sees `expired` on time without a timer job.
            end = sm.deadline(s)
            if end is not None:
                remaining = min(remaining, max(0.0, end - clock()) + 0.01)
            announced = self._changed.wait(remaining)
            self._changed.clear()
            if announced or (end is not None and clock() >= end):
                self.session = self._sessions.get(self._sid)
