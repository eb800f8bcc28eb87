"""Expected verdicts of the real document samples (from tests/data/documents/SOURCES.md), shared by the
golden tests and ``make eval-docs``."""

from __future__ import annotations

from idsvc.documents import Result, SealTemplate

# file → (overall: "fail" | "ok" = pass or warn, {check id: allowed verdicts}, note) — from SOURCES.md
SIGNATURES: dict[str, tuple[str, dict[str, str], str]] = {
    "vote_easy1.jpg": ("fail", {"ink_black": "fail"}, "blue ballpoint"),
    "vote_easy4.jpg": ("fail", {"ink_black": "fail"}, "blue ballpoint"),
    "vote_easy8.jpg": ("ok", {"ink_black": "pass"}, "black marker, grey paper"),
    "vote_easy12.jpg": ("fail", {"ink_black": "fail", "single_signature": "warn"}, "blue, two signatures"),
    "vote_easy14.jpg": ("ok", {"ink_black": "pass|warn"}, "black, bluish cast (C*≈10)"),
    "vote_easy15.jpg": ("ok", {"ink_black": "pass|warn"}, "black, bluish cast (C*≈10)"),
    "vote_easy22.jpg": ("ok", {"ink_black": "pass", "paper_white": "warn"}, "black, under-exposed"),
    "vote_easy6.jpg": ("fail", {"ink_black": "fail"}, "pencil"),
    "vote_easy13.jpg": ("fail", {"ink_black": "fail"}, "pencil, dim"),
    "vote_med5.jpg": ("fail", {"ink_black": "fail"}, "pencil, textured paper"),
    "vote_med3.jpg": ("fail", {"ink_black": "fail"}, "green marker"),
    "vote_hard7.jpg": (
        "fail",
        {"ink_black": "fail", "paper_white": "fail", "lighting": "fail"},
        "green, brown paper, dark",
    ),
    "vote_med11.jpg": ("fail", {"ink_black": "fail", "lighting": "fail"}, "green, strong shadow"),
    "vote_hard1.jpg": ("fail", {"sharpness": "fail"}, "blue, heavily blurred"),
    "vote_med8.jpg": ("fail", {"sharpness": "fail"}, "pen, blurred"),
    "vote_med13.jpg": ("fail", {"sharpness": "fail"}, "marker, motion blur"),
    "vote_easy17.jpg": ("fail", {"lighting": "fail"}, "hard shadow"),
    "vote_easy19.jpg": ("fail", {"lighting": "fail"}, "strong light gradient"),
    "vote_med17.jpg": ("fail", {"lighting": "fail"}, "stripes of shadow"),
    "vote_hard12.jpg": ("fail", {"lighting": "fail"}, "diagonal shadow"),
    "vote_hard6.jpg": ("fail", {"ruled_lines": "fail", "ink_black": "fail"}, "blue on ruled paper"),
    "vote_hard8.jpg": ("fail", {"ruled_lines": "fail"}, "marker on ruled paper"),
    "vote_hard10.jpg": ("fail", {"ruled_lines": "fail"}, "pen on ruled paper"),
    "vote_hard15.jpg": ("fail", {"ruled_lines": "fail"}, "ruled, tilted (design: detector misses it)"),
    "vote_med4.jpg": ("ok", {"ink_black": "pass", "lighting": "warn"}, "marker, dark frame"),
    "vote_med10.jpg": ("fail", {"paper_white": "fail"}, "brown paper"),
    "vote_med16.jpg": ("ok", {"lighting": "warn"}, "black, bluish light and shadow"),
    "vote_hard20.jpg": ("fail", {"ruled_lines": "fail", "lighting": "warn"}, "faint ruled lines, warm light"),
    "enzoseason_signed_image.jpeg": ("fail", {"single_signature": "fail"}, "whole printed page"),
}
SEALS: dict[str, tuple[SealTemplate, str, dict[str, str], str]] = {
    "synth_seal_square20_red_ok.png": (
        SealTemplate("square", 20, 20),
        "ok",
        {"size": "pass", "shape": "pass"},
        "20.0×20.0",
    ),
    "synth_seal_round16_red_ok.png": (SealTemplate("round", 16, 16), "ok", {"size": "pass", "shape": "pass"}, "Ø16.0"),
    "synth_seal_rect20x10_red_ok.png": (
        SealTemplate("square", 20, 10),
        "ok",
        {"size": "pass", "shape": "pass"},
        "20.0×10.0",
    ),
    "synth_seal_square20_blue_bad.png": (SealTemplate(), "fail", {"ink_red": "fail"}, "20×20"),
    "synth_seal_square20_faint_bad.png": (
        SealTemplate(),
        "fail",
        {"ink_red": "fail|warn", "complete": "fail"},
        "20×20",
    ),
    "synth_seal_square30_red_oversize.png": (SealTemplate(), "fail", {"size": "fail"}, "30×30"),
    "synth_seal_square20_photo_cast.jpg": (SealTemplate(), "fail", {"scale": "fail"}, "20×20 (72-dpi tag)"),
}


def decided(result: Result) -> str:
    fails = [c.id for c in result.checks if c.verdict.value == "fail"]
    warns = [c.id for c in result.checks if c.verdict.value == "warn"]
    return ("FAIL " + ",".join(fails)) if fails else ("warn " + ",".join(warns)) if warns else "all pass"


def match(result: Result, overall: str, rules: dict[str, str]) -> tuple[bool, list[str]]:
    ok = (result.verdict.value == "fail") == (overall == "fail")
    misses = [] if ok else [f"overall {result.verdict.value} ≠ {overall}"]
    for cid, allowed in rules.items():
        c = result.check(cid)
        got = c.verdict.value if c else "absent"
        if got not in allowed.split("|"):
            misses.append(f"{cid} {got} ≠ {allowed}")
    return not misses, misses
