"""The verification session state machine, as pure functions on plain dicts.

::

    pending ──scan──▶ scanned ──confirm(right number)──▶ confirmed ──video──▶ verifying ──▶ verified | failed
       │                 └──confirm(wrong number)──▶ failed          ▲                  │
       │                                                             └── retryable ─────┘ (new challenge, ≤ 3 tries)
       └── any non-final state ──▶ expired | cancelled

Each function takes the current record and ``now`` (epoch seconds) and returns the next record,
or raises :class:`IdsvcError`.  Storage, audit and HTTP live elsewhere (``service.py``).
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from idsvc.core.errors import IdsvcError, conflict

PENDING, SCANNED, CONFIRMED, VERIFYING = "pending", "scanned", "confirmed", "verifying"
VERIFIED, FAILED, EXPIRED, CANCELLED = "verified", "failed", "expired", "cancelled"
STATES = (PENDING, SCANNED, CONFIRMED, VERIFYING, VERIFIED, FAILED, EXPIRED, CANCELLED)
FINAL = frozenset({VERIFIED, FAILED, EXPIRED, CANCELLED})
PURPOSES = ("login", "reverify", "register", "transfer", "change", "seal_signature", "resign")

MAX_ATTEMPTS = 3
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
    }
)

Session = dict[str, Any]


def new_session(
    session_id: str, member_id: str, purpose: str, desktop: dict[str, str], now: float, ttl: int
) -> Session:
    """A fresh ``pending`` session with a match code and two decoys for the phone to choose from."""
    rng = secrets.SystemRandom()
    codes = rng.sample(range(10, 100), 3)
    return {
        "session_id": session_id,
        "member_id": member_id,
        "purpose": purpose,
        "status": PENDING,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "expires_at": now + ttl,
        "desktop": desktop,
        "match_code": str(codes[0]),
        "choices": [str(c) for c in sorted(codes)],
        "openid": None,
        "scanned_at": None,
        "confirmed_at": None,
        "finished_at": None,
        "failure": None,
        "challenge": None,
        "attempts": 0,
        "verified_at": None,
        "last_reason": None,
    }


def is_expired(s: Session, now: float) -> bool:
    return s["status"] not in FINAL and now >= s["expires_at"]


def _advance(s: Session, status: str, now: float, **changes: Any) -> Session:
    nxt = {**s, **changes, "status": status, "version": s["version"] + 1, "updated_at": now}
    if status in FINAL:
        nxt["finished_at"] = now
    return nxt


def _require_live(s: Session, now: float) -> None:
    if is_expired(s, now) or s["status"] == EXPIRED:
        raise session_expired()
    if s["status"] == CANCELLED:
        raise IdsvcError(
            "session_cancelled",
            "本次验证已取消，请在电脑上重新发起",
            "This verification was cancelled; start again on the computer",
            status=409,
        )
    if s["status"] in FINAL:
        raise conflict(
            "session_finished", "本次验证已结束", "This verification has already finished", status=s["status"]
        )


def session_expired() -> IdsvcError:
    return IdsvcError(
        "session_expired", "二维码已过期，请刷新", "The QR code has expired; refresh the page", status=410
    )


def expire(s: Session, now: float) -> Session | None:
    """The expired record if ``s`` has run out of time, else None (no change)."""
    return _advance(s, EXPIRED, now, failure={"code": "session_expired"}) if is_expired(s, now) else None


def scan(s: Session, openid: str, now: float) -> Session | None:
    """pending → scanned by ``openid``.  The same phone scanning again changes nothing."""
    _require_live(s, now)
    if s["openid"] is not None:
        if hmac.compare_digest(s["openid"], openid):
            return None
        raise conflict(
            "already_scanned", "二维码已被其他微信扫描", "This QR code has already been scanned by another WeChat user"
        )
    if s["status"] != PENDING:
        raise conflict(
            "invalid_state", "当前状态不允许此操作", f"Not allowed in state {s['status']}", status=s["status"]
        )
    return _advance(s, SCANNED, now, openid=openid, scanned_at=now)


def confirm(s: Session, openid: str, code: str, now: float, challenge: str | None = None) -> Session:
    """scanned → confirmed when the phone picks the desktop's number; a wrong pick fails the session.

    Failing (rather than allowing retries) is the QRLJacking defence: an attacker who relays a
    victim's QR has one blind guess in three, then the session is dead.
    """
    _require_live(s, now)
    if s["openid"] is None or not hmac.compare_digest(s["openid"], openid):
        raise IdsvcError(
            "not_your_session",
            "该验证不属于当前微信用户",
            "This verification belongs to another WeChat user",
            status=403,
        )
    if s["status"] != SCANNED:
        raise conflict(
            "invalid_state", "当前状态不允许此操作", f"Not allowed in state {s['status']}", status=s["status"]
        )
    if hmac.compare_digest(s["match_code"].encode(), code.encode()):
        return _advance(s, CONFIRMED, now, confirmed_at=now, challenge=challenge)
    return _advance(s, FAILED, now, failure={"code": "match_code_mismatch"})


def begin_verifying(s: Session, openid: str, now: float) -> Session:
    """confirmed → verifying when the phone's video arrives; only one upload at a time gets through."""
    _require_live(s, now)
    if s["openid"] is None or not hmac.compare_digest(s["openid"], openid):
        raise IdsvcError(
            "not_your_session",
            "该验证不属于当前微信用户",
            "This verification belongs to another WeChat user",
            status=403,
        )
    if s["status"] == VERIFYING:
        raise conflict(
            "verification_in_progress", "正在核验上一段视频，请稍候", "The previous video is still being checked"
        )
    if s["status"] != CONFIRMED:
        raise conflict(
            "invalid_state", "当前状态不允许此操作", f"Not allowed in state {s['status']}", status=s["status"]
        )
    return _advance(s, VERIFYING, now, attempts=s.get("attempts", 0) + 1)


def finish_verifying(
    s: Session, passed: bool, reason: str | None, now: float, next_challenge: str | None = None
) -> Session:
    """verifying → verified, back to confirmed with a new challenge (retryable, tries left), or failed.

    Not refused after the deadline: the analysis started in time, so its result stands.
    """
    if s["status"] != VERIFYING:
        raise conflict(
            "invalid_state", "当前状态不允许此操作", f"Not allowed in state {s['status']}", status=s["status"]
        )
    if passed:
        return _advance(s, VERIFIED, now, verified_at=now, last_reason=None)
    if reason in RETRYABLE and s.get("attempts", 0) < MAX_ATTEMPTS and now < s["expires_at"]:
        return _advance(s, CONFIRMED, now, challenge=next_challenge or s.get("challenge"), last_reason=reason)
    return _advance(s, FAILED, now, failure={"code": reason or "verification_failed"}, last_reason=reason)


def consume(s: Session, purpose: str | None, now: float) -> Session:
    """Mark a ``verified`` session as used by the back end that acts on it; once only.

    A portal submitting a sensitive form after re-verification consumes the session, so one face
    verification can never authorise two submissions.
    """
    if s["status"] != VERIFIED:
        raise conflict("not_verified", "该验证尚未通过", "This session is not verified", status=s["status"])
    if s.get("consumed_at") is not None:
        raise conflict("already_consumed", "该验证结果已被使用", "This verification has already been used")
    if purpose is not None and purpose != s["purpose"]:
        raise conflict("purpose_mismatch", "验证用途不符", f"This verification was for {s['purpose']}, not {purpose}")
    return {**s, "consumed_at": now, "version": s["version"] + 1, "updated_at": now}


def cancel(s: Session, now: float) -> Session:
    _require_live(s, now)
    return _advance(s, CANCELLED, now, failure={"code": "session_cancelled"})


def public_view(s: Session) -> dict[str, Any]:
    """What a poller may see: no match code (it shows on the desktop already), no openid."""
    from datetime import UTC, datetime

    def iso(t: float | None) -> str | None:
        return (
            None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        )

    return {
        "session_id": s["session_id"],
        "status": s["status"],
        "version": s["version"],
        "purpose": s["purpose"],
        "member_id": s["member_id"],
        "expires_at": iso(s["expires_at"]),
        "scanned_at": iso(s["scanned_at"]),
        "confirmed_at": iso(s["confirmed_at"]),
        "finished_at": iso(s["finished_at"]),
        "failure_reason": (s.get("failure") or {}).get("code"),
        "verified_at": iso(s.get("verified_at")),
        "attempts": s.get("attempts", 0),
        "last_reason": s.get("last_reason"),
        "consumed_at": iso(s.get("consumed_at")),
    }
