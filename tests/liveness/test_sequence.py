"""Sequence challenges (issue #11): drawing, the phone's steps, order/timing checks, light, provenance."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter

import numpy as np
import pytest

from idsvc.core.settings import Settings
from idsvc.liveness import challenge_steps, light, new_challenge
from idsvc.liveness.checks import Signals
from idsvc.liveness.config import LivenessConfig
from idsvc.liveness.pipeline import _actions, _parse_time
from idsvc.liveness.sequence import MOVEMENTS, Flash, parse
from tests.liveness import synthetic as syn

CFG = LivenessConfig()


def test_new_challenge_draws_two_ordered_actions_with_prompts() -> None:
    settings = Settings()
    rng = random.Random(7)
    firsts: Counter[str] = Counter()
    for _ in range(400):
        c = new_challenge(settings, rng)
        json.dumps(c)  # JSON-serialisable
        acts = [a["action"] for a in c["actions"]]
        assert len(acts) == 2 and len(set(acts)) == 2 and any(a in MOVEMENTS for a in acts)
        assert c["actions"][0]["prompt_s"] == 0.0 and 1.2 <= c["actions"][1]["prompt_s"] <= 1.8
        assert c["issued_at"] > 0 and c["duration_s"] == 3.0
        cols = c["light"]["colours"]
        assert len(cols) == 4 and all(a["colour"] != b["colour"] for a, b in itertools.pairwise(cols))
        firsts[acts[0]] += 1
    # Blink is left out of the default draw (it let natural clips replay); it may be enabled.
    assert set(firsts) == set(MOVEMENTS)


def test_blink_is_never_alone_and_settings_apply() -> None:
    only_blink = Settings(challenges=("blink",))
    with pytest.raises(ValueError):
        new_challenge(only_blink)
    one = Settings(challenge_actions=1, light_challenge=False, challenge_prompt_min_s=1.5, challenge_prompt_max_s=1.5)
    for _ in range(50):
        c = new_challenge(one, random.Random())
        assert c["actions"][0]["action"] in MOVEMENTS and c["light"] is None
    three = new_challenge(Settings(challenge_actions=3, challenge_prompt_min_s=1.0, challenge_prompt_max_s=1.0))
    assert [a["prompt_s"] for a in three["actions"]] == [0.0, 1.0, 2.0]


def test_settings_from_env() -> None:
    s = Settings.from_env(
        {"IDSVC_CHALLENGE_PROMPT_MIN_S": "1.0", "IDSVC_CHALLENGE_PROMPT_MAX_S": "1.5", "IDSVC_LIGHT_CHALLENGE": "0"}
    )
    assert (s.challenge_prompt_min_s, s.challenge_prompt_max_s, s.light_challenge) == (1.0, 1.5, False)
    from idsvc.core.settings import ConfigError

    with pytest.raises(ConfigError):
        Settings.from_env({"IDSVC_CHALLENGE_PROMPT_MIN_S": "2", "IDSVC_CHALLENGE_PROMPT_MAX_S": "1"})


def test_challenge_steps_for_the_phone_and_legacy_strings() -> None:
    c = new_challenge(Settings(), random.Random(3))
    steps = challenge_steps(c)
    assert [s["action"] for s in steps] == [a["action"] for a in c["actions"]]
    assert all(s["instruction_zh"] and s["instruction_en"] for s in steps)
    assert sum(len(s["colours"]) for s in steps) == 4
    legacy = challenge_steps("nod")
    assert legacy[0]["action"] == "nod" and legacy[0]["prompt_s"] == 0.0 and legacy[0]["colours"] == []
    assert not parse("blink").timed
    with pytest.raises(ValueError):
        parse("jump")
    with pytest.raises(ValueError):
        parse({"kind": "sequence", "actions": [{"action": "nod"}]})


def _challenge(a1: str, a2: str, p2: float) -> dict:
    return {"kind": "sequence", "actions": [{"action": a1, "prompt_s": 0.0}, {"action": a2, "prompt_s": p2}]}


def _signals(**fns) -> Signals:
    t, lms = syn.sequence(3.0, **fns)
    return Signals.from_landmarks(t, lms)


def test_actions_in_order_after_their_prompts_pass() -> None:
    # turn left peaking at 0.8 s, then open mouth at 2.3 s; second prompt at 1.5 s
    s = _signals(
        yaw=lambda t: 30 * syn.bump(np.array(t), 0.8, 0.6), mouth=lambda t: 0.5 * syn.bump(np.array(t), 2.3, 0.5)
    )
    m: dict = {}
    ok, _ = _actions(s, parse(_challenge("turn_left", "open_mouth", 1.5)), CFG, m)
    assert ok, m


def test_wrong_order_or_too_early_fails() -> None:
    s = _signals(
        yaw=lambda t: 30 * syn.bump(np.array(t), 0.8, 0.6), mouth=lambda t: 0.5 * syn.bump(np.array(t), 2.3, 0.5)
    )
    m: dict = {}
    ok, _ = _actions(s, parse(_challenge("open_mouth", "turn_left", 1.5)), CFG, m)
    assert not ok
    # the second action happened, but before its prompt (a replay cannot know when it comes)
    s2 = _signals(
        yaw=lambda t: 30 * syn.bump(np.array(t), 0.6, 0.5), mouth=lambda t: 0.5 * syn.bump(np.array(t), 1.1, 0.4)
    )
    ok2, _ = _actions(s2, parse(_challenge("turn_left", "open_mouth", 1.7)), CFG, m)
    assert not ok2 and m["challenge_result"]["steps"][1]["in_time"] is False


def _colour_series(flashes: list[Flash], gain: float, t: np.ndarray, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    col = np.zeros((len(t), 6))
    col[:, 0] = col[:, 3] = 120.0
    for f in flashes:
        sel = (t >= f.start_s + 0.05) & (t < f.end_s)
        col[sel, 1:3] += gain * light.chroma(f.rgb) / 50.0
    col[:, 1:3] += rng.normal(0, 0.4, (len(t), 2))
    col[:, 4:6] += rng.normal(0, 0.4, (len(t), 2))
    return col


def test_light_check_passes_follows_and_fails_other_sequences() -> None:
    t = np.arange(0, 3, 1 / 30)
    asked = [
        Flash(c, rgb, 0.5 + 0.5 * i, 1.0 + 0.5 * i)
        for i, (c, rgb) in enumerate(
            [("red", (255, 0, 0)), ("blue", (0, 0, 255)), ("green", (0, 255, 0)), ("yellow", (255, 255, 0))]
        )
    ]
    other = [
        Flash(f.colour, r.rgb, f.start_s, f.end_s) for f, r in zip(asked, [asked[2], asked[3], asked[1], asked[0]])
    ]
    assert light.check(t, _colour_series(asked, 8.0, t), asked).verdict == "passed"
    assert light.check(t, _colour_series(other, 8.0, t), asked).verdict == "failed"
    assert light.check(t, _colour_series(asked, 0.0, t), asked).verdict == "inconclusive"


def test_creation_time_parsing() -> None:
    assert _parse_time("2024-05-01T10:00:00.000000Z") == pytest.approx(1714557600.0)
    assert _parse_time("1904-01-01T00:00:00Z") is None and _parse_time("garbage") is None and _parse_time(None) is None


def test_recorded_before_challenge_is_rejected(d13_blink, d13_reference, clip_dir) -> None:  # type: ignore[no-untyped-def]
    """A clip whose container says it was made an hour before the challenge was issued is refused."""
    import av

    from idsvc.liveness.pipeline import analyse_video
    from tests.factories import liveness_synth as synth

    frames, fps = synth.read_frames(d13_blink)
    old = clip_dir / "d13-old.mp4"
    with av.open(str(old), "w") as out:
        out.metadata["creation_time"] = "2024-05-01T10:00:00Z"
        s = out.add_stream("libx264", rate=round(fps))
        s.width, s.height, s.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    c = {"kind": "sequence", "issued_at": 1714557600.0 + 3600, "actions": [{"action": "blink", "prompt_s": 0.0}]}
    d = analyse_video(old, c, d13_reference)
    assert d.reason == "recorded_before_challenge", d.to_dict()["measurements"].get("provenance")
    c["issued_at"] = 1714557600.0 + 60  # within the clock slack: judged on its content
    assert analyse_video(old, c, d13_reference).reason != "recorded_before_challenge"
    legacy = analyse_video(d13_blink, "blink", d13_reference)
    assert legacy.passed and legacy.to_dict()["assurance"] == "single_action"
