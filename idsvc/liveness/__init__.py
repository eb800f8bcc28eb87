"""idsvc.liveness: ID records, and the selfie-video analysis the qr feature calls.

Public API for other features (issue #11):

* ``new_challenge(settings, rng=None) -> dict``: a fresh sequence challenge (JSON-serialisable).
* ``challenge_steps(challenge) -> list[dict]``: what the phone page shows, and when.
* ``analyse_video(path, challenge, reference, *, config=None) -> Decision``: ``challenge`` is a
  sequence dict or a legacy action name; ``Decision.to_dict()["assurance"]`` says what passed.
"""

from __future__ import annotations

from typing import Any

from idsvc.liveness.sequence import SequenceSettings, challenge_steps, new_challenge

__all__ = ["SequenceSettings", "analyse_video", "challenge_steps", "new_challenge"]


def analyse_video(*args: Any, **kwargs: Any) -> Any:
    """See :func:`idsvc.liveness.pipeline.analyse_video` (imported lazily: it loads numpy/OpenCV)."""
    from idsvc.liveness.pipeline import analyse_video as run

    return run(*args, **kwargs)
