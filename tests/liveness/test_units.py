"""Small pure pieces: challenge picking, encoding bytes, the decision record, container sniffing."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from idsvc.liveness import match
from idsvc.liveness.challenges import CHALLENGES, pick_challenge
from idsvc.liveness.config import LivenessConfig
from idsvc.liveness.decision import REASONS, passed, rejected
from idsvc.liveness.video import VideoRejected, sniff

ISSUE_REASONS = {
    "video_invalid",
    "recorded_before_challenge",  # issue #11
    "light_challenge_failed",  # issue #11
    "too_short",
    "too_long",
    "no_face",
    "multiple_faces",
    "face_too_small",
    "too_dark",
    "too_blurry",
    "challenge_not_performed",
    "static_image",
    "identity_changed",
    "face_mismatch",
    "id_record_not_found",
}


def test_challenges_have_both_instructions() -> None:
    assert set(CHALLENGES) == {"blink", "turn_left", "turn_right", "open_mouth", "nod"}
    for name, c in CHALLENGES.items():
        assert c.name == name and c.instruction_zh and c.instruction_en


def test_pick_challenge_is_uniform_over_the_enabled_set() -> None:
    rng = random.Random(7)
    counts = Counter(pick_challenge(["blink", "nod", "blink"], rng) for _ in range(2000))
    assert set(counts) == {"blink", "nod"}
    assert 850 < counts["blink"] < 1150  # duplicates do not weigh more


def test_pick_challenge_default_rng_and_errors() -> None:
    assert pick_challenge(["turn_left"]) == "turn_left"
    with pytest.raises(ValueError, match="unknown"):
        pick_challenge(["smile"])
    with pytest.raises(ValueError, match="no challenges"):
        pick_challenge([])


def test_encoding_round_trip_is_128_float64_little_endian() -> None:
    enc = np.random.default_rng(0).normal(0, 0.1, 128)
    data = match.encoding_to_bytes(enc)
    assert len(data) == 1024 and data[:8] == np.float64(enc[0]).astype("<f8").tobytes()
    assert np.array_equal(match.encoding_from_bytes(data), enc)


@pytest.mark.parametrize("bad", [np.zeros(127), np.zeros((2, 128)), np.full(128, np.nan)])
def test_encoding_to_bytes_rejects_bad_arrays(bad: np.ndarray) -> None:
    with pytest.raises(ValueError):
        match.encoding_to_bytes(bad)


def test_encoding_from_bytes_rejects_wrong_length() -> None:
    with pytest.raises(ValueError):
        match.encoding_from_bytes(b"\0" * 1023)


def test_match_uses_the_median_of_several_frames() -> None:
    ref = np.zeros(128)
    encs = [np.eye(128)[0] * d for d in (0.3, 0.35, 0.9)]  # one bad frame
    r = match.match(encs, ref, 0.5)
    assert r.distance == pytest.approx(0.35) and r.matched
    assert match.max_pairwise_distance(encs) == pytest.approx(0.6)
    assert match.max_pairwise_distance(encs[:1]) == 0.0


def test_decision_reasons_are_the_issues_list_and_serialise() -> None:
    assert set(REASONS) == ISSUE_REASONS
    d = rejected("challenge_not_performed", {"x": np.float64(1.23456), "arr": np.arange(3), "nan": float("nan")}, "nod")
    body = json.loads(json.dumps(d.to_dict()))
    assert body["passed"] is False and body["reason"] == "challenge_not_performed"
    assert "请点点头" in body["message"] and "nod your head" in body["message_en"]
    assert body["measurements"] == {"x": 1.2346, "arr": [0, 1, 2], "nan": None}
    assert passed({}).to_dict()["reason"] is None
    assert REASONS["id_record_not_found"][0] == "系统内身份证号与人脸记录不一致，请提交身份证号变更申请"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty_file"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "not_a_video"),
        (bytes(np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8)), "not_a_video"),
        (b"#EXTM3U\n#EXT-X-TARGETDURATION:1\nfile:///etc/passwd\n", "not_a_video"),
    ],
)
def test_sniff_rejects_non_videos(tmp_path: Path, content: bytes, problem: str) -> None:
    p = tmp_path / "upload.mp4"
    p.write_bytes(content)
    with pytest.raises(VideoRejected) as exc:
        sniff(p, LivenessConfig())
    assert exc.value.reason == "video_invalid" and exc.value.problem == problem


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\0\0\0\x18ftypmp42", "mp4"),
        (b"\0\0\0\x14ftypqt  ", "mp4"),
        (b"\x1a\x45\xdf\xa3\x9f", "webm"),
        (b"RIFF\0\0\0\0AVI LIST", "avi"),
    ],
)
def test_sniff_accepts_phone_containers(tmp_path: Path, head: bytes, kind: str) -> None:
    p = tmp_path / "v"
    p.write_bytes(head + b"\0" * 64)
    assert sniff(p, LivenessConfig()) == kind
