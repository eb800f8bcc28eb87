"""The liveness challenge as the qr feature sees it: an opaque JSON value it stores and passes on.

The liveness feature chooses the challenge and describes it; this module only asks it, through
``idsvc.liveness``'s public names.  While the old single-action challenge (a name such as
``"blink"``) is all there is, :func:`steps` falls back to the challenge table for its text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import idsvc.liveness as liveness
from idsvc.qr.sessions import Challenge

Picker = Callable[[], Challenge]


def picker(settings: liveness.SequenceSettings) -> Picker:
    """A fresh sequence challenge per attempt (ordered actions with prompt times, light colours).

    ``IDSVC_CHALLENGE_ACTIONS=1`` keeps the old single-action challenge (a plain action name,
    assurance ``single_action``): weaker against replay, kept for tests driven by recorded clips.
    """
    if settings.challenge_actions == 1:
        import idsvc.liveness.challenges as single

        names = tuple(settings.challenges)
        return lambda: single.pick_challenge(names)
    return lambda: liveness.new_challenge(settings)


def _legacy_step(action: object) -> dict[str, Any]:
    from idsvc.liveness.challenges import CHALLENGES

    c = CHALLENGES.get(action) if isinstance(action, str) else None
    return {
        "action": action if isinstance(action, str) else "",
        "instruction": c.instruction_zh if c else "",
        "instruction_en": c.instruction_en if c else "",
    }


def steps(challenge: Challenge) -> list[dict[str, Any]]:
    """What the phone shows, one entry per prompt (``action``, ``instruction``, ``instruction_en``, …)."""
    if challenge is None:
        return []
    public = getattr(liveness, "challenge_steps", None)
    if callable(public):
        return list(public(challenge))
    if isinstance(challenge, dict):
        actions = challenge.get("actions")
        return [_legacy_step(a) for a in actions] if isinstance(actions, list) else []
    return [_legacy_step(challenge)]


def instruction(challenge: Challenge) -> tuple[str, str]:
    """The challenge as one zh and one en sentence."""
    parts = steps(challenge)
    zh = "，然后".join(str(p.get("instruction") or p.get("instruction_zh") or "") for p in parts if p)
    en = ", then ".join(str(p.get("instruction_en") or "") for p in parts if p)
    return zh, en
