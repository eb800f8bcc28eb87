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

__all__ = ["SequenceSettings", "analyse_video", "challenge_steps", "new_challenge", "reason_message"]


def reason_message(reason: str | None) -> tuple[str, str]:
    """The member's message (zh, en) for a decision's reason; None means passed.

    Messages name no action: after a failed try the page shows the NEW challenge, so advice that
    repeated the old action would contradict it.
    """
    from idsvc.liveness.decision import PASSED_MESSAGE, REASONS

    if reason is None:
        return PASSED_MESSAGE
    zh, en = REASONS.get(reason, ("视频核验出错，请重新录制", "The video could not be checked; please record again."))
    if reason == "challenge_not_performed":
        return "未检测到指定动作，请按新的提示完成", "The requested action was not detected; follow the new prompt."
    return zh, en


def analyse_video(*args: Any, **kwargs: Any) -> Any:
    """See :func:`idsvc.liveness.pipeline.analyse_video` (imported lazily: it loads numpy/OpenCV)."""
    from idsvc.liveness.pipeline import analyse_video as run

    return run(*args, **kwargs)
