"""The verification session state machine, as data: states, steps and the one table that joins them.

::

    pending ──scan──▶ scanned ──confirm(right number)──▶ confirmed ──video──▶ verifying ──▶ verified | failed
       │                 └──confirm(wrong number)──▶ failed          ▲                  │
       │                                                             └── retryable ─────┘ (new challenge, ≤ 3 tries)
       └── any non-final state ──▶ expired | cancelled

A session is a frozen :class:`Session` record; each function takes the record and ``now`` (epoch
seconds) and returns the next record (or None for "no change"), or raises a catalogued error.
Storage, audit and HTTP live elsewhere (``service.py``).  The record's JSON (``to_json``) is what
Redis holds; ``from_json`` also reads records written before a field existed.

The ``challenge`` is an opaque JSON value chosen by the liveness feature (a name today, an object
describing a sequence of prompts tomorrow): it is stored and handed back, never interpreted here.
"""

from __future__ import annotations

import dataclasses
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from idsvc.core.errors import IdsvcError
from idsvc.qr import errors

#: What the liveness feature chose for the member to do: any JSON value, passed through untouched.
Challenge = Any


class SessionState(StrEnum):
    PENDING = "pending"
    SCANNED = "scanned"
    CONFIRMED = "confirmed"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


PENDING, SCANNED, CONFIRMED, VERIFYING = (
    SessionState.PENDING,
    SessionState.SCANNED,
    SessionState.CONFIRMED,
    SessionState.VERIFYING,
)
VERIFIED, FAILED, EXPIRED, CANCELLED = (
    SessionState.VERIFIED,
    SessionState.FAILED,
    SessionState.EXPIRED,
    SessionState.CANCELLED,
)
STATES = tuple(SessionState)
FINAL = frozenset({VERIFIED, FAILED, EXPIRED, CANCELLED})
OPEN = frozenset(STATES) - FINAL
PURPOSES = ("login", "reverify", "register", "transfer", "change", "seal_signature", "resign")

MAX_ATTEMPTS = 3
#: How long past the deadline an analysis that began in time may still finish (its result stands);
#: after this a session stuck in ``verifying`` (a crashed worker) expires like any other.
VERIFY_GRACE = 120.0
# Failures the member can fix by recording again (light, framing, doing the action); the rest
# (a photo, a face swap, another person, no ID record) end the session at once.
RETRYABLE = frozenset(
    {
        "analysis_error",
        "video_invalid",
        "too_short",
        "too_long",
        "no_face",
        "multiple_faces",
        "face_too_small",
        "too_dark",
        "too_blurry",
        "challenge_not_performed",
        # The screen's colours were not seen on the face: a dim screen or bright daylight can
        # cause it too, so the member may try again (each try counts toward the member's limit).
        "light_challenge_failed",
    }
)


# Problems with the file, not with the member's action (unreadable, too short, too long): the try is
# given back, so a bad recorder or a gallery mix-up never costs one of the three attempts.
MEDIA_PROBLEMS = frozenset({"video_invalid", "too_short", "too_long"})


class Step(StrEnum):
    SCAN = "scan"
    CONFIRM = "confirm"
    WRONG_NUMBER = "wrong_number"
    NO_ID_RECORD = "no_id_record"
    BEGIN_VERIFYING = "begin_verifying"
    PASS = "pass"
    RETRY = "retry"
    FAIL = "fail"
    CONSUME = "consume"
    EXPIRE = "expire"
    CANCEL = "cancel"


@dataclass(frozen=True)
class Transition:
    sources: frozenset[SessionState]
    target: SessionState


TRANSITIONS: MappingProxyType[Step, Transition] = MappingProxyType(
    {
        Step.SCAN: Transition(frozenset({PENDING}), SCANNED),
        Step.CONFIRM: Transition(frozenset({SCANNED}), CONFIRMED),
        Step.WRONG_NUMBER: Transition(frozenset({SCANNED}), FAILED),
        Step.NO_ID_RECORD: Transition(frozenset({SCANNED}), FAILED),
        Step.BEGIN_VERIFYING: Transition(frozenset({CONFIRMED}), VERIFYING),
        Step.PASS: Transition(frozenset({VERIFYING}), VERIFIED),
        Step.RETRY: Transition(frozenset({VERIFYING}), CONFIRMED),
        Step.FAIL: Transition(frozenset({VERIFYING}), FAILED),
        Step.CONSUME: Transition(frozenset({VERIFIED}), VERIFIED),
        Step.EXPIRE: Transition(OPEN, EXPIRED),
        Step.CANCEL: Transition(OPEN, CANCELLED),
    }
)


@dataclass(frozen=True)
class Session:
    """One verification session.  ``failure`` is the code of what ended it, if it failed."""

    session_id: str
    member_id: str
    purpose: str
    status: SessionState
    version: int
    created_at: float
    updated_at: float
    expires_at: float
    match_code: str
    choices: tuple[str, ...]
    desktop: dict[str, str] = field(default_factory=dict)
    poll_token_hash: str = ""
    openid: str | None = None
    scanned_at: float | None = None
    confirmed_at: float | None = None
    verifying_since: float | None = None
    verified_at: float | None = None
    finished_at: float | None = None
    consumed_at: float | None = None
    failure: str | None = None
    challenge: Challenge = None
    attempts: int = 0
    last_reason: str | None = None
    # What the passed verification proved: "sequence+light", "sequence" or "single_action".
    assurance: str | None = None
    # A re-verification (idsvc.reverify) binds the session to what is being submitted: the action,
    # its Chinese label, the SHA-256 of the exact form, and the API key (id, name) that created it.
    action: str | None = None
    action_label: str | None = None
    payload_digest: str | None = None
    created_by: str | None = None
    service_name: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The stored form (the shape Redis has always held: ``failure`` is ``{"code": …}``)."""
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        data["choices"] = list(self.choices)
        data["desktop"] = dict(self.desktop)
        data["failure"] = None if self.failure is None else {"code": self.failure}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Session:
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        values["status"] = SessionState(data["status"])
        values["choices"] = tuple(str(c) for c in data.get("choices") or ())
        values["desktop"] = dict(data.get("desktop") or {})
        failure = data.get("failure")
        values["failure"] = failure.get("code") if isinstance(failure, dict) else failure
        return cls(**values)

    @property
    def is_final(self) -> bool:
        return self.status in FINAL


def new_session(
    session_id: str,
    member_id: str,
    purpose: str,
    desktop: dict[str, str],
    now: float,
    ttl: int,
    *,
    poll_token_hash: str = "",
) -> Session:
    """A fresh ``pending`` session with a match code and two decoys for the phone to choose from."""
    rng = secrets.SystemRandom()
    codes = rng.sample(range(10, 100), 3)
    return Session(
        session_id=session_id,
        member_id=member_id,
        purpose=purpose,
        status=PENDING,
        version=1,
        created_at=now,
        updated_at=now,
        expires_at=now + ttl,
        match_code=str(codes[0]),
        choices=tuple(str(c) for c in sorted(codes)),
        desktop=dict(desktop),
        poll_token_hash=poll_token_hash,
        consumed_at=None,
    )


def invalid_state(s: Session) -> IdsvcError:
    return errors.INVALID_STATE({"status": s.status.value}, state=s.status.value)


def deadline(s: Session) -> float | None:
    """When ``s`` expires: never once final; a session being verified gets ``VERIFY_GRACE`` more."""
    if s.status in FINAL:
        return None
    if s.status == VERIFYING and s.verifying_since is not None:
        return max(s.expires_at, s.verifying_since + VERIFY_GRACE)
    return s.expires_at


def is_expired(s: Session, now: float) -> bool:
    end = deadline(s)
    return end is not None and now >= end


def _advance(s: Session, step: Step, now: float, **changes: Any) -> Session:
    transition = TRANSITIONS[step]
    if s.status not in transition.sources:
        raise invalid_state(s)
    finishes = transition.target in FINAL and s.status not in FINAL
    return dataclasses.replace(
        s,
        **changes,
        status=transition.target,
        version=s.version + 1,
        updated_at=now,
        finished_at=now if finishes else s.finished_at,
    )


def _require_live(s: Session, now: float) -> None:
    if is_expired(s, now) or s.status == EXPIRED:
        raise errors.SESSION_EXPIRED()
    if s.status == CANCELLED:
        raise errors.SESSION_CANCELLED()
    if s.status in FINAL:
        raise errors.SESSION_FINISHED({"status": s.status.value})


def _require_phone(s: Session, openid: str) -> None:
    if s.openid is None or not hmac.compare_digest(s.openid.encode(), openid.encode()):
        raise errors.NOT_YOUR_SESSION()


def expire(s: Session, now: float) -> Session | None:
    """The expired record if ``s`` has run out of time, else None (no change).

    A session still ``verifying`` past its grace lost its analysis (a worker died and the job was
    not re-delivered in time): it fails with ``analysis_error`` rather than hanging or looking
    like the member's own delay.
    """
    if not is_expired(s, now):
        return None
    if s.status == VERIFYING:
        return _advance(s, Step.FAIL, now, failure="analysis_error", last_reason="analysis_error", verifying_since=None)
    return _advance(s, Step.EXPIRE, now, failure="session_expired")


def scan(s: Session, openid: str, now: float) -> Session | None:
    """pending → scanned by ``openid``.  The same phone scanning again changes nothing."""
    _require_live(s, now)
    if s.openid is not None:
        if hmac.compare_digest(s.openid.encode(), openid.encode()):
            return None
        raise errors.ALREADY_SCANNED()
    return _advance(s, Step.SCAN, now, openid=openid, scanned_at=now)


def confirm(s: Session, openid: str, code: str, now: float, challenge: Challenge = None) -> Session:
    """scanned → confirmed when the phone picks the desktop's number; a wrong pick fails the session.

    Failing (rather than allowing retries) is the QRLJacking defence: an attacker who relays a
    victim's QR has one blind guess in three, then the session is dead.
    """
    _require_live(s, now)
    _require_phone(s, openid)
    if hmac.compare_digest(s.match_code.encode(), code.encode()):
        return _advance(s, Step.CONFIRM, now, confirmed_at=now, challenge=challenge)
    return _advance(s, Step.WRONG_NUMBER, now, failure="match_code_mismatch")


def no_id_record(s: Session, openid: str, now: float) -> Session:
    """scanned → failed when the member has no ID record to match against: said before any
    recording, since no video could pass (the member must file an ID-number change)."""
    _require_live(s, now)
    _require_phone(s, openid)
    return _advance(s, Step.NO_ID_RECORD, now, failure="id_record_not_found")


def begin_verifying(s: Session, openid: str, now: float) -> Session:
    """confirmed → verifying when the phone's video arrives; only one upload at a time gets through."""
    _require_live(s, now)
    _require_phone(s, openid)
    if s.status == VERIFYING:
        raise errors.VERIFICATION_IN_PROGRESS()
    return _advance(s, Step.BEGIN_VERIFYING, now, attempts=s.attempts + 1, verifying_since=now)


def finish_verifying(
    s: Session,
    passed: bool,
    reason: str | None,
    now: float,
    next_challenge: Challenge = None,
    assurance: str | None = None,
) -> Session:
    """verifying → verified, back to confirmed with a new challenge (retryable, tries left), or failed.

    Not refused after the deadline: the analysis started in time, so its result stands (and the
    session cannot expire under it for ``VERIFY_GRACE`` seconds, see :func:`deadline`).
    """
    if passed:
        return _advance(s, Step.PASS, now, verified_at=now, last_reason=None, verifying_since=None, assurance=assurance)
    if reason in MEDIA_PROBLEMS and now < s.expires_at:
        return _advance(
            s,
            Step.RETRY,
            now,
            attempts=max(0, s.attempts - 1),
            challenge=s.challenge if next_challenge is None else next_challenge,
            last_reason=reason,
            verifying_since=None,
        )
    if reason in RETRYABLE and s.attempts < MAX_ATTEMPTS and now < s.expires_at:
        return _advance(
            s,
            Step.RETRY,
            now,
            challenge=s.challenge if next_challenge is None else next_challenge,
            last_reason=reason,
            verifying_since=None,
        )
    return _advance(
        s, Step.FAIL, now, failure=reason or "verification_failed", last_reason=reason, verifying_since=None
    )


def consume(s: Session, purpose: str | None, now: float) -> Session:
    """Mark a ``verified`` session as used by the back end that acts on it; once only.

    A portal submitting a sensitive form after re-verification consumes the session, so one face
    verification can never authorise two submissions.
    """
    if s.status != VERIFIED:
        raise errors.NOT_VERIFIED({"status": s.status.value})
    if s.consumed_at is not None:
        raise errors.ALREADY_CONSUMED()
    if purpose is not None and purpose != s.purpose:
        raise errors.PURPOSE_MISMATCH(expected=s.purpose, purpose=purpose)
    return _advance(s, Step.CONSUME, now, consumed_at=now)


def cancel(s: Session, now: float) -> Session:
    _require_live(s, now)
    return _advance(s, Step.CANCEL, now, failure="session_cancelled")


def iso(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def public_view(s: Session) -> dict[str, Any]:
    """What a poller may see: no match code (it shows on the desktop already), no openid."""
    return {
        "session_id": s.session_id,
        "status": s.status.value,
        "version": s.version,
        "purpose": s.purpose,
        "member_id": s.member_id,
        "expires_at": iso(s.expires_at),
        "scanned_at": iso(s.scanned_at),
        "confirmed_at": iso(s.confirmed_at),
        "finished_at": iso(s.finished_at),
        "failure_reason": s.failure,
        "verified_at": iso(s.verified_at),
        "attempts": s.attempts,
        "last_reason": s.last_reason,
        "consumed_at": iso(s.consumed_at),
        "assurance": s.assurance,
        **({"action": s.action, "payload_digest": s.payload_digest} if s.action is not None else {}),
    }
