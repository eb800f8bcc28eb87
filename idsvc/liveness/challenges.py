"""The actions a member can be asked to perform, and the server-side random pick.

Directions are the member's own: ``turn_left`` = the member turns their head to *their* left, which
in an unmirrored recording (what ``MediaRecorder``/the phone camera stores; only the on-screen
preview is mirrored) moves the nose toward the image's *right*.  ``geometry.yaw`` is positive then.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from idsvc.core.settings import ALL_CHALLENGES


@dataclass(frozen=True)
class Challenge:
    name: str
    instruction_zh: str
    instruction_en: str


# The names (and their order) come from ``idsvc.core.settings.ALL_CHALLENGES``, the one list the
# settings validate ``IDSVC_CHALLENGES`` against; here each name gets its instruction.
_INSTRUCTIONS: dict[str, tuple[str, str]] = {
    "blink": ("请眨眨眼", "Blink your eyes"),
    "turn_left": ("请向左转头，再转回正面", "Turn your head to your left, then back"),
    "turn_right": ("请向右转头，再转回正面", "Turn your head to your right, then back"),
    "open_mouth": ("请张大嘴巴", "Open your mouth wide"),
    "nod": ("请点点头", "Nod your head"),
}
if set(_INSTRUCTIONS) != set(ALL_CHALLENGES):  # pragma: no cover - caught by any import in the tests
    raise RuntimeError(f"instructions {sorted(_INSTRUCTIONS)} do not match ALL_CHALLENGES {ALL_CHALLENGES}")

CHALLENGES: dict[str, Challenge] = {name: Challenge(name, *_INSTRUCTIONS[name]) for name in ALL_CHALLENGES}

_RNG = secrets.SystemRandom()


def pick_challenge(enabled: Sequence[str], rng: random.Random | None = None) -> str:
    """A uniformly random challenge from ``enabled`` (unknown names are a configuration error)."""
    names = [n for n in dict.fromkeys(enabled)]
    unknown = [n for n in names if n not in CHALLENGES]
    if unknown:
        raise ValueError(f"unknown challenges {unknown}; known: {sorted(CHALLENGES)}")
    if not names:
        raise ValueError("no challenges enabled")
    return (rng or _RNG).choice(names)
