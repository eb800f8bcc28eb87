"""The phone's video: confirmed → verifying → verified | failed (or another try), with the decision audited.

The raw video exists only as a private temporary file for the length of the analysis and is
deleted in ``finally``; what stays is the decision, its reason and its numbers (no frames, no
encodings).  The first successful verification binds the member's WeChat openid.
"""

from __future__ import annotations

import logging
import os
import tempfile
from typing import Any

from idsvc.core import audit
from idsvc.core.db import Member, utcnow
from idsvc.core.errors import IdsvcError
from idsvc.qr import sessions as sm
from idsvc.qr.service import QrSessions

log = logging.getLogger(__name__)

# Containers phones produce: MP4/MOV (ISO BMFF), WebM/Matroska (Android MediaRecorder), AVI.
_SUFFIX_BY_MAGIC = ((b"\x1a\x45\xdf\xa3", ".webm"), (b"RIFF", ".avi"))


def sniff_video(data: bytes) -> str:
    """A file suffix for a supported container, or a 415 saying the upload is not a video."""
    if len(data) >= 12 and data[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return ".mp4"
    for magic, suffix in _SUFFIX_BY_MAGIC:
        if data.startswith(magic) and (suffix != ".avi" or data[8:12] == b"AVI "):
            return suffix
    raise IdsvcError(
        "unsupported_video_type",
        "请上传手机录制的视频（MP4、MOV 或 WebM）",
        "Upload a video recorded on the phone (MP4, MOV or WebM)",
        status=415,
    )


def _reference(qs: QrSessions, member_id: str) -> Any:
    from idsvc.liveness.records import load_reference

    with qs.svc.db.session() as db:
        member = db.get(Member, member_id)
        return None if member is None else load_reference(db, member.id_number)


def _analyse(qs: QrSessions, s: sm.Session, data: bytes, suffix: str) -> tuple[bool, str | None, dict[str, Any]]:
    from idsvc.liveness.pipeline import analyse_video

    reference = _reference(qs, s["member_id"])
    fd, path = tempfile.mkstemp(suffix=suffix, prefix="idsvc-video-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        decision = analyse_video(path, s["challenge"] or "blink", reference)
        return decision.passed, decision.reason, decision.to_dict()
    except Exception:  # a bug must not leave the session stuck in `verifying`
        log.exception("video analysis crashed", extra={"fields": {"session": s["session_id"]}})
        return False, "analysis_error", {}
    finally:
        os.unlink(path)


def verify_video(qs: QrSessions, sid: str, openid: str, data: bytes) -> tuple[sm.Session, dict[str, Any]]:
    """Analyse the phone's video for session ``sid``; returns the new session and the decision."""
    from idsvc.liveness.challenges import pick_challenge

    suffix = sniff_video(data)
    s = qs.apply(sid, lambda cur: sm.begin_verifying(cur, openid, qs.clock()), "session.verifying", f"wechat:{openid}")
    passed, reason, decision = _analyse(qs, s, data, suffix)
    next_challenge = pick_challenge(qs.svc.settings.challenges)
    measurements = decision.get("measurements", {})
    match = measurements.get("match") if isinstance(measurements.get("match"), dict) else {}
    summary = {
        "challenge": s["challenge"],
        "attempt": s["attempts"],
        "reason": reason,
        "match_distance": match.get("distance"),
    }
    event = "session.verified" if passed else "session.retry"
    s = qs.apply(
        sid,
        lambda cur: sm.finish_verifying(cur, passed, reason, qs.clock(), next_challenge),
        event,
        f"wechat:{openid}",
        summary,
    )
    if passed:
        with qs.svc.db.session() as db:
            member = db.get(Member, s["member_id"])
            if member is not None and member.openid is None:
                member.openid, member.openid_bound_at = openid, utcnow()
                audit.record(
                    db, "member.openid_bound", f"wechat:{openid}", f"member:{member.member_id}", {"session": sid}
                )
    return s, decision
