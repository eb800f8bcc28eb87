"""Sequence challenges (issue #11): two actions in a server-chosen order and timing, plus colours.

A challenge is a plain JSON-serialisable dict, stored with the session and audited::

    {"kind": "sequence", "version": 1, "issued_at": 1735000000.25, "duration_s": 3.0,
     "actions": [{"action": "turn_left", "prompt_s": 0.0}, {"action": "nod", "prompt_s": 1.43}],
     "light": {"colours": [{"colour": "red", "rgb": [255, 0, 0], "start_s": 0.3, "end_s": 0.9}, ...]}}

``light`` is null when the light challenge is off.  The old plain-string challenge (one action,
anywhere in the clip) is still accepted everywhere: :func:`parse` turns it into a one-action
challenge with no timing, no colours and no ``issued_at``.

Drawing rules: the actions are distinct, drawn from the enabled movement actions (``turn_left``,
``turn_right``, ``nod``, ``open_mouth``); ``blink`` (which any natural clip contains) may appear
only next to a movement action, never alone; the first prompt is at 0 s, each later one at a
random time in ``[prompt_min_s, prompt_max_s]`` after the previous.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from idsvc.liveness.challenges import CHALLENGES

MOVEMENTS = ("turn_left", "turn_right", "nod", "open_mouth")
# Screen colours of the light challenge: saturated, far apart in chroma (what a face reflects).
COLOURS: dict[str, tuple[int, int, int]] = {
    "red": (255, 0, 0),
    "green": (0, 255, 0),
    "blue": (0, 0, 255),
    "yellow": (255, 255, 0),
    "magenta": (255, 0, 255),
    "cyan": (0, 255, 255),
}
COLOUR_ZH = {"red": "红", "green": "绿", "blue": "蓝", "yellow": "黄", "magenta": "品红", "cyan": "青"}

_RNG = secrets.SystemRandom()


class SequenceSettings(Protocol):
    """The settings :func:`new_challenge` reads (``idsvc.core.settings.Settings`` has them)."""

    @property
    def challenges(self) -> tuple[str, ...]: ...
    @property
    def challenge_actions(self) -> int: ...
    @property
    def challenge_prompt_min_s(self) -> float: ...
    @property
    def challenge_prompt_max_s(self) -> float: ...
    @property
    def challenge_duration_s(self) -> float: ...
    @property
    def light_challenge(self) -> bool: ...
    @property
    def light_colours(self) -> int: ...
    @property
    def light_colour_s(self) -> float: ...


@dataclass(frozen=True)
class Step:
    action: str
    prompt_s: float


@dataclass(frozen=True)
class Flash:
    colour: str
    rgb: tuple[int, int, int]
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Challenge:
    """A parsed challenge: ``timed`` is False for the legacy one-action string."""

    steps: tuple[Step, ...]
    timed: bool
    issued_at: float | None = None
    duration_s: float | None = None
    flashes: tuple[Flash, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [s.action for s in self.steps]


def new_challenge(
    settings: SequenceSettings, rng: random.Random | None = None, now: float | None = None
) -> dict[str, Any]:
    """A fresh sequence challenge (JSON-serialisable) from the enabled actions and timing settings."""
    r = rng or _RNG
    enabled = [n for n in dict.fromkeys(settings.challenges) if n in CHALLENGES]
    movements = [n for n in enabled if n in MOVEMENTS]
    n = max(1, int(settings.challenge_actions))
    if not movements:
        raise ValueError(
            "a sequence needs at least one enabled movement action (turn_left, turn_right, nod, open_mouth)"
        )
    pool = movements + (["blink"] if "blink" in enabled and n > 1 else [])
    if len(pool) < n:
        raise ValueError(f"{n} distinct actions asked, only {pool} enabled")
    while True:
        actions = r.sample(pool, n)
        if any(a in MOVEMENTS for a in actions):  # blink never alone
            break
    prompts = [0.0]
    for _ in actions[1:]:
        prompts.append(
            round(prompts[-1] + r.uniform(settings.challenge_prompt_min_s, settings.challenge_prompt_max_s), 2)
        )
    light = None
    if settings.light_challenge:
        light = {"colours": _flashes(r, settings.light_colours, settings.light_colour_s, settings.challenge_duration_s)}
    return {
        "kind": "sequence",
        "version": 1,
        "issued_at": round(time.time() if now is None else now, 3),
        "duration_s": settings.challenge_duration_s,
        "actions": [{"action": a, "prompt_s": p} for a, p in zip(actions, prompts)],
        "light": light,
    }


def _flashes(r: random.Random, n: int, each_s: float, duration_s: float) -> list[dict[str, Any]]:
    """``n`` colours, no two neighbours alike, each ``each_s`` long, centred in the recording."""
    names: list[str] = []
    while len(names) < n:
        c = r.choice(sorted(COLOURS))
        if not names or c != names[-1]:
            names.append(c)
    start = max(0.0, (duration_s - n * each_s) / 2.0)
    return [
        {
            "colour": c,
            "rgb": list(COLOURS[c]),
            "start_s": round(start + i * each_s, 3),
            "end_s": round(start + (i + 1) * each_s, 3),
        }
        for i, c in enumerate(names)
    ]


def parse(challenge: str | Mapping[str, Any]) -> Challenge:
    """A legacy action name or a sequence dict -> :class:`Challenge`; ``ValueError`` if malformed."""
    if isinstance(challenge, str):
        if challenge not in CHALLENGES:
            raise ValueError(f"unknown challenge {challenge!r}")
        return Challenge((Step(challenge, 0.0),), timed=False)
    if not isinstance(challenge, Mapping) or challenge.get("kind") != "sequence":
        raise ValueError(f"unknown challenge {challenge!r}")
    try:
        steps = tuple(Step(str(a["action"]), float(a["prompt_s"])) for a in challenge["actions"])
        light = challenge.get("light") or {}
        flashes = tuple(
            Flash(str(c["colour"]), tuple(int(v) for v in c["rgb"]), float(c["start_s"]), float(c["end_s"]))  # type: ignore[arg-type]
            for c in light.get("colours") or ()
        )
        issued = challenge.get("issued_at")
        duration = challenge.get("duration_s")
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed sequence challenge: {exc}") from None
    if not steps or any(s.action not in CHALLENGES for s in steps):
        raise ValueError(f"unknown actions in {challenge!r}")
    if any(b.prompt_s < a.prompt_s for a, b in itertools.pairwise(steps)):
        raise ValueError("prompts must be in time order")
    return Challenge(
        steps,
        timed=True,
        issued_at=None if issued is None else float(issued),
        duration_s=None if duration is None else float(duration),
        flashes=flashes,
    )


def challenge_steps(challenge: str | Mapping[str, Any]) -> list[dict[str, Any]]:
    """What the phone page shows and when: one entry per action, with the colours during it."""
    c = parse(challenge)
    out = []
    for i, step in enumerate(c.steps):
        end = c.steps[i + 1].prompt_s if i + 1 < len(c.steps) else (c.duration_s or float("inf"))
        info = CHALLENGES[step.action]
        out.append(
            {
                "action": step.action,
                "instruction_zh": info.instruction_zh,
                "instruction_en": info.instruction_en,
                "prompt_s": step.prompt_s,
                "colours": [
                    {
                        "colour": f.colour,
                        "colour_zh": COLOUR_ZH.get(f.colour, f.colour),
                        "rgb": list(f.rgb),
                        "start_s": f.start_s,
                        "end_s": f.end_s,
                    }
                    for f in c.flashes
                    if step.prompt_s <= f.start_s < end
                ],
            }
        )
    return out


def instruction(challenge: str | Mapping[str, Any]) -> tuple[str, str]:
    """One line for messages: the actions in order (zh, en)."""
    c = parse(challenge)
    zh = "，然后".join(CHALLENGES[s.action].instruction_zh.removeprefix("请") for s in c.steps)
    en = ", then ".join(
        CHALLENGES[s.action].instruction_en[0].lower() + CHALLENGES[s.action].instruction_en[1:] for s in c.steps
    )
    return ("请" + zh, en[0].upper() + en[1:])
