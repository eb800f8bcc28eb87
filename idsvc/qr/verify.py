"""The phone's video: what a container looks like, and the analyser that judges it.

The raw video exists only as a private temporary file for the length of the analysis and is
deleted in ``finally``; what stays is the decision, its reason and its numbers (no frames, no
encodings).  :class:`~idsvc.qr.service.QrSessions` drives the session through ``verifying``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any, Protocol

from idsvc.core.db import Database, Member
from idsvc.qr import errors
from idsvc.qr.sessions import Challenge

# Containers phones produce: MP4/MOV (ISO BMFF), WebM/Matroska (Android MediaRecorder), AVI.
_SUFFIX_BY_MAGIC = ((b"\x1a\x45\xdf\xa3", ".webm"), (b"RIFF", ".avi"))


def sniff_video(data: bytes) -> str:
    """A file suffix for a supported container, or a 415 saying the upload is not a video."""
    if len(data) >= 12 and data[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip"):
        return ".mp4"
    for magic, suffix in _SUFFIX_BY_MAGIC:
        if data.startswith(magic) and (suffix != ".avi" or data[8:12] == b"AVI "):
            return suffix
    raise errors.UNSUPPORTED_VIDEO_TYPE()


@dataclass(frozen=True)
class Analysis:
    """The outcome of one video: ``decision`` is the liveness feature's full record (numbers included)."""

    passed: bool
    reason: str | None
    decision: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The numbers worth auditing (no frames, no encodings)."""
        measurements = self.decision.get("measurements")
        match = measurements.get("match") if isinstance(measurements, dict) else None
        return {
            "reason": self.reason,
            "match_distance": match.get("distance") if isinstance(match, dict) else None,
            "assurance": self.decision.get("assurance"),
        }


class Analyser(Protocol):
    def __call__(self, member_id: str, video: bytes, suffix: str, challenge: Challenge) -> Analysis:
        """Judge ``video`` (a container of type ``suffix``) against the member's ID record and ``challenge``."""
        ...


@dataclass(frozen=True)
class LivenessAnalyser:
    """The real analyser: the member's reference face from SQL, the liveness feature's pipeline."""

    db: Database

    def __call__(self, member_id: str, video: bytes, suffix: str, challenge: Challenge) -> Analysis:
        from idsvc.liveness.pipeline import analyse_video
        from idsvc.liveness.records import load_reference

        with self.db.session() as db:
            member = db.get(Member, member_id)
            reference = None if member is None else load_reference(db, member.id_number)
        fd, path = tempfile.mkstemp(suffix=suffix, prefix="idsvc-video-")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(video)
            decision = analyse_video(path, challenge or "blink", reference)
            return Analysis(decision.passed, decision.reason, decision.to_dict())
        finally:
            os.unlink(path)
