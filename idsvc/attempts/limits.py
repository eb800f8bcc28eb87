"""Per-member limits on failed face verifications, across sessions and API keys.

A session allows three tries, but a caller may start many sessions: without a limit per member, an
attacker holding a clip or a look-alike would simply start again.  Like the vendors this service
is measured against (AWS: a few failures in minutes, then a 30-60 minute time-out; Aliyun and
Tencent FaceID: a daily cap), two limits hold per member:

* ``window_max`` counted failures within ``window_s`` seconds lock the member for ``lockout_s``;
* ``daily_max`` counted failures in one day (in ``timezone``) lock the member until the next day.

Which failures count: every reason that speaks to identity or liveness (a mismatch, a photo, a
replay, a missed action) counts once; failures that are the member's to fix and say nothing about
who is in front of the camera (too dark, no face, an unreadable video) do not count — an attacker
learns nothing from them, and a genuine member fighting the light must not be locked out.
Unknown reasons count (fail safe).  docs/liveness.md gives the figures behind this choice.

State lives in Redis through :class:`~idsvc.core.store.Store` (every key with a TTL): a sorted set
of failure times per member (concurrent failures each add their own entry, so all are counted), a
counter per member and day, and a lock record.  Times come from the injected clock, so the edges
of each window are testable; TTLs only clean up.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from idsvc.attempts.errors import VERIFICATION_LOCKED
from idsvc.core import audit
from idsvc.core.clock import Clock
from idsvc.core.db import Database
from idsvc.core.settings import Settings
from idsvc.core.store import Store

# Reasons that are the member's to fix and carry no evidence about identity: not counted.
NOT_COUNTED = frozenset(
    {
        "too_dark",
        "too_blurry",
        "no_face",
        "face_too_small",
        "video_invalid",
        "too_short",
        "too_long",
        "analysis_error",
        "unsupported_video_type",
    }
)


def counts_against_member(reason: str | None) -> bool:
    """Whether a failed verification with ``reason`` counts toward the member's limits."""
    return reason not in NOT_COUNTED


@dataclass(frozen=True)
class LockState:
    locked: bool
    until: float | None
    kind: str | None  # "window" | "daily"
    failures_in_window: int
    failures_today: int

    def retry_after(self, now: float) -> int:
        return 0 if not self.locked or self.until is None else max(1, int(self.until - now + 0.999))

    def to_dict(self, now: float, tz: ZoneInfo) -> dict[str, Any]:
        return {
            "locked": self.locked,
            "until": _iso(self.until, tz) if self.locked else None,
            "kind": self.kind if self.locked else None,
            "retry_after": self.retry_after(now),
            "failures_in_window": self.failures_in_window,
            "failures_today": self.failures_today,
        }


def _iso(t: float | None, tz: ZoneInfo) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, tz).isoformat(timespec="seconds")


class FaceAttempts:
    def __init__(self, store: Store, db: Database, settings: Settings, clock: Clock) -> None:
        self._store = store
        self._db = db
        self._clock = clock
        self._tz = ZoneInfo(settings.timezone)
        self.window_max = settings.face_fails_window_max
        self.window_s = settings.face_fails_window_s
        self.lockout_s = settings.face_fails_lockout_s
        self.daily_max = settings.face_fails_daily_max

    # -- keys -------------------------------------------------------------------------------
    def _window_key(self, member_id: str) -> str:
        return self._store.key("attempts", "fails", member_id)

    def _day_key(self, member_id: str, now: float) -> str:
        day = datetime.fromtimestamp(now, self._tz).strftime("%Y%m%d")
        return self._store.key("attempts", "day", member_id, day)

    def _lock_key(self, member_id: str) -> str:
        return self._store.key("attempts", "lock", member_id)

    def _next_midnight(self, now: float) -> float:
        local = datetime.fromtimestamp(now, self._tz)
        midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        return midnight.timestamp()

    # -- reads ------------------------------------------------------------------------------
    def state(self, member_id: str) -> LockState:
        now = self._clock()
        lock, in_window, today = self._store.read_many(
            self._lock_key(member_id),
            self._window_key(member_id),
            now - self.window_s,
            now,
            self._day_key(member_id, now),
        )
        locked = lock is not None and float(lock["until"]) > now
        return LockState(
            locked=locked,
            until=float(lock["until"]) if locked and lock else None,
            kind=str(lock["kind"]) if locked and lock else None,
            failures_in_window=in_window,
            failures_today=today,
        )

    def view(self, member_id: str) -> dict[str, Any]:
        """The lock state as reviewers and the portal see it."""
        return self.state(member_id).to_dict(self._clock(), self._tz)

    def check(self, member_id: str) -> None:
        """Raise 429 ``verification_locked`` (with ``retry_after``) if the member is locked."""
        state = self.state(member_id)
        if not state.locked or state.until is None:
            return
        now = self._clock()
        local = datetime.fromtimestamp(state.until, self._tz)
        raise VERIFICATION_LOCKED(
            {"retry_after": state.retry_after(now), "until": _iso(state.until, self._tz), "kind": state.kind},
            until=local.strftime("%m月%d日 %H:%M"),
            until_en=local.strftime("%Y-%m-%d %H:%M %Z"),
        )

    # -- writes -----------------------------------------------------------------------------
    def record_failure(self, member_id: str, reason: str | None, *, session_id: str, actor: str) -> LockState:
        """Count a failed verification (if its reason counts); lock the member when a limit is hit."""
        if not counts_against_member(reason):
            return self.state(member_id)
        now = self._clock()
        in_window = self._store.count_in_window(
            self._window_key(member_id),
            f"{now:.6f}:{secrets.token_hex(4)}",
            now,
            self.window_s,
            ttl=self.window_s + 60,
        )
        today = self._store.incr(self._day_key(member_id, now), ttl=2 * 86400)
        lock: dict[str, Any] | None = None
        if today >= self.daily_max:
            lock = {"until": self._next_midnight(now), "kind": "daily", "at": now}
        elif in_window >= self.window_max:
            lock = {"until": now + self.lockout_s, "kind": "window", "at": now}
        with self._db.session() as db:
            audit.record(
                db,
                "member.face_failure",
                actor,
                f"member:{member_id}",
                {"session": session_id, "reason": reason, "in_window": in_window, "today": today},
            )
            if lock is not None:
                current = self._store.get_json(self._lock_key(member_id))
                if current is None or float(current["until"]) < lock["until"]:
                    ttl = int(lock["until"] - now) + 60
                    self._store.set_json(self._lock_key(member_id), lock, ttl)
                    audit.record(
                        db,
                        "member.face_locked",
                        "system",
                        f"member:{member_id}",
                        {"kind": lock["kind"], "until": _iso(lock["until"], self._tz), "after_session": session_id},
                    )
        return self.state(member_id)

    def unlock(self, member_id: str, actor: str, why: str) -> LockState:
        """Lift a lock and forget the counted failures (an operator's decision, audited)."""
        now = self._clock()
        before = self.state(member_id)
        with self._db.session() as db:
            audit.record(
                db,
                "member.face_unlocked",
                actor,
                f"member:{member_id}",
                {"why": why, "was_locked": before.locked, "until": _iso(before.until, self._tz)},
            )
        self._store.delete(self._lock_key(member_id), self._window_key(member_id), self._day_key(member_id, now))
        return self.state(member_id)
