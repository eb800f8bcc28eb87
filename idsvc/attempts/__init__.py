"""Failed face verifications limited per member, across sessions and API keys (#16)."""

from idsvc.attempts.limits import FaceAttempts, LockState, counts_against_member

__all__ = ["FaceAttempts", "LockState", "counts_against_member"]
