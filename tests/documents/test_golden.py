"""Golden tests on the real samples: each gets the verdict SOURCES.md expects, by the rule that owns it."""

from __future__ import annotations

from pathlib import Path

import pytest

from idsvc.documents import check_seal, check_signature
from tests.factories import documents_golden as eval_docs  # the one table, shared with `make eval-docs`

from .conftest import sample

# The design documents this miss: the ruled-line detector does not see hard15's tilted, shadowed lines.
KNOWN_MISSES = {"vote_hard15.jpg"}


@pytest.mark.parametrize("name", sorted(eval_docs.SIGNATURES))
def test_signature_sample(docs_dir: Path, name: str) -> None:
    overall, rules, _ = eval_docs.SIGNATURES[name]
    r = check_signature(sample(docs_dir, name))
    ok, why = eval_docs.match(r, overall, rules)
    if name in KNOWN_MISSES:
        assert r.verdict.value != "pass"  # still shown to a reviewer (lighting WARN)
        return
    assert ok, why


@pytest.mark.parametrize("name", sorted(eval_docs.SEALS))
def test_seal_sample(docs_dir: Path, name: str) -> None:
    tpl, overall, rules, _ = eval_docs.SEALS[name]
    r = check_seal(sample(docs_dir, name), tpl)
    ok, why = eval_docs.match(r, overall, rules)
    assert ok, why


@pytest.mark.parametrize(
    ("name", "long_mm", "short_mm"),
    [
        ("synth_seal_square20_red_ok.png", 20.0, 20.0),
        ("synth_seal_round16_red_ok.png", 16.0, 16.0),
        ("synth_seal_rect20x10_red_ok.png", 20.0, 10.0),
        ("synth_seal_square30_red_oversize.png", 30.0, 30.0),
        ("synth_seal_square20_blue_bad.png", 20.0, 20.0),
    ],
)
def test_seal_size_within_0_3_mm(docs_dir: Path, name: str, long_mm: float, short_mm: float) -> None:
    m = check_seal(sample(docs_dir, name)).measurements
    assert m["long_mm"] == pytest.approx(long_mm, abs=0.3)
    assert m["short_mm"] == pytest.approx(short_mm, abs=0.3)


def test_seal_shapes_and_angle(docs_dir: Path) -> None:
    sq = check_seal(sample(docs_dir, "synth_seal_square20_red_ok.png")).measurements
    rd = check_seal(sample(docs_dir, "synth_seal_round16_red_ok.png")).measurements
    rc = check_seal(sample(docs_dir, "synth_seal_rect20x10_red_ok.png")).measurements
    assert (sq["shape"], rd["shape"], rc["shape"]) == ("square", "round", "rect")
    assert abs(sq["angle_deg"]) == pytest.approx(2.0, abs=0.5)  # generated rotated by 2°
    assert abs(rc["angle_deg"]) == pytest.approx(1.0, abs=0.5)


def test_phone_photo_with_72dpi_tag_is_not_measured(docs_dir: Path) -> None:
    r = check_seal(sample(docs_dir, "synth_seal_square20_photo_cast.jpg"))
    assert r.dpi_source == "unknown" and r.check("scale").verdict.value == "fail"
    assert r.check("size").verdict.value == "unable"
    assert r.check("ink_red").verdict.value in ("pass", "warn")  # the yellow cast is white-balanced away


def test_whole_page_is_not_a_signature(docs_dir: Path) -> None:
    r = check_signature(sample(docs_dir, "enzoseason_signed_image.jpeg"))
    c = r.check("single_signature")
    assert c.verdict.value == "fail" and "page" in c.message_en
    assert r.asset_png is None


def test_result_json_shape(docs_dir: Path) -> None:
    d = check_signature(sample(docs_dir, "vote_easy8.jpg")).to_dict()
    assert set(d) >= {"verdict", "checks", "dpi", "dpi_source"}
    assert [c["id"] for c in d["checks"]] == [
        "file",
        "scale",
        "single_signature",
        "lighting",
        "paper_white",
        "ruled_lines",
        "ink_black",
        "stroke_width",
        "sharpness",
        "contrast",
        "skew",
    ]
    for c in d["checks"]:
        assert set(c) >= {"id", "verdict", "value", "unit", "range", "message", "message_en"}
    s = check_seal(sample(docs_dir, "synth_seal_square20_red_ok.png")).to_dict()
    assert [c["id"] for c in s["checks"]] == [
        "file",
        "scale",
        "ink_red",
        "complete",
        "shape",
        "size",
        "rotation",
        "text",
    ]
    assert s["dpi_source"] == "declared" and s["dpi"] == 300
