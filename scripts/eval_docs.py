"""`make eval-docs`: every sample in ../shared/data/documents against its expected verdict, the
generated defect set, and the calibration-sheet round trip.  Prints expected vs actual and the
rule(s) that decided; exits 0 (misses are reported, not hidden) unless --strict and a target fails.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from idsvc.documents import check_seal, check_signature  # noqa: E402
from idsvc.documents.config import SealTemplate  # noqa: E402
from idsvc.documents.defects import seal_defects, signature_defects  # noqa: E402
from idsvc.documents.synth import filled_sheet, photograph, to_jpeg, to_png  # noqa: E402

SHARED = Path(os.environ.get("IDSVC_SHARED_DIR", REPO.parent / "shared"))
DOCS = SHARED / "data" / "documents"

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
    "vote_hard7.jpg": ("fail", {"ink_black": "fail", "paper_white": "fail", "lighting": "fail"}, "green, brown paper, dark"),
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
    "synth_seal_square20_red_ok.png": (SealTemplate("square", 20, 20), "ok", {"size": "pass", "shape": "pass"}, "20.0×20.0"),
    "synth_seal_round16_red_ok.png": (SealTemplate("round", 16, 16), "ok", {"size": "pass", "shape": "pass"}, "Ø16.0"),
    "synth_seal_rect20x10_red_ok.png": (SealTemplate("square", 20, 10), "ok", {"size": "pass", "shape": "pass"}, "20.0×10.0"),
    "synth_seal_square20_blue_bad.png": (SealTemplate(), "fail", {"ink_red": "fail"}, "20×20"),
    "synth_seal_square20_faint_bad.png": (SealTemplate(), "fail", {"ink_red": "fail|warn", "complete": "fail"}, "20×20"),
    "synth_seal_square30_red_oversize.png": (SealTemplate(), "fail", {"size": "fail"}, "30×30"),
    "synth_seal_square20_photo_cast.jpg": (SealTemplate(), "fail", {"scale": "fail"}, "20×20 (72-dpi tag)"),
}


def _decided(result) -> str:
    fails = [c.id for c in result.checks if c.verdict.value == "fail"]
    warns = [c.id for c in result.checks if c.verdict.value == "warn"]
    return ("FAIL " + ",".join(fails)) if fails else ("warn " + ",".join(warns)) if warns else "all pass"


def _match(result, overall: str, rules: dict[str, str]) -> tuple[bool, list[str]]:
    ok = (result.verdict.value == "fail") == (overall == "fail")
    misses = [] if ok else [f"overall {result.verdict.value} ≠ {overall}"]
    for cid, allowed in rules.items():
        c = result.check(cid)
        got = c.verdict.value if c else "absent"
        if got not in allowed.split("|"):
            misses.append(f"{cid} {got} ≠ {allowed}")
    return not misses, misses


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--strict", action="store_true", help="exit 1 on any miss except hard15 (documented)")
    ap.add_argument("--no-sheet", action="store_true", help="skip the calibration-sheet round trip")
    args = ap.parse_args()
    if not DOCS.is_dir():
        print(f"shared data not found at {DOCS} (set IDSVC_SHARED_DIR)")
        return 2
    misses: list[str] = []
    print("== Real samples (shared/data/documents) ==")
    print(f"{'file':38s} {'expected':9s} {'actual':7s} {'ok':3s} decided by / misses")
    for name, (overall, rules, note) in SIGNATURES.items():
        path = next(DOCS.glob(f"*/{name}"))
        r = check_signature(path.read_bytes())
        ok, why = _match(r, overall, rules)
        exp = overall + ":" + ",".join(f"{k}={v}" for k, v in rules.items())
        print(f"{name:38s} {overall:9s} {r.verdict.value:7s} {'✔' if ok else '✘':3s} {_decided(r)}  [{note}; want {exp}]" + ("" if ok else f"  MISS: {'; '.join(why)}"))
        if not ok:
            misses.append(name)
    for name, (tpl, overall, rules, truth) in SEALS.items():
        r = check_seal((DOCS / "seals_synthetic" / name).read_bytes(), tpl)
        ok, why = _match(r, overall, rules)
        size = r.check("size")
        print(f"{name:38s} {overall:9s} {r.verdict.value:7s} {'✔' if ok else '✘':3s} {_decided(r)}  [truth {truth} mm, measured {size.value if size else None} mm vs {tpl.describe()}]" + ("" if ok else f"  MISS: {'; '.join(why)}"))
        if not ok:
            misses.append(name)

    print("\n== Generated defects (owning rule must WARN or FAIL; clean must not FAIL) ==")
    clean_photo = np.asarray(Image.open(DOCS / "signatures_photos" / "vote_easy14.jpg").convert("RGB"))
    defects = {**signature_defects(clean_photo), **seal_defects()}
    flagged = total = 0
    for name, (kind, build, owner, scan) in defects.items():
        img = build()
        data = to_png(img, 300) if scan else to_jpeg(img, 92)
        r = check_signature(data) if kind == "signature" else check_seal(data)
        if owner:
            c = r.check(owner)
            got = c.verdict.value if c else "absent"
            ok = got in ("warn", "fail")
            total += 1
            flagged += ok
            print(f"{name:26s} owner {owner:16s} {got:6s} value={c.value if c else None!s:16s} {'✔' if ok else '✘ MISS'}  overall {r.verdict.value} ({_decided(r)})")
        else:
            ok = r.verdict.value != "fail"
            print(f"{name:26s} clean                  overall {r.verdict.value:6s} {'✔' if ok else '✘ MISS'} ({_decided(r)})")
        if not ok:
            misses.append(name)
    print(f"defects flagged by their owning rule: {flagged}/{total}")

    if not args.no_sheet:
        print("\n== Calibration sheet round trip (render PDF → fill → synthetic phone photo → rectify) ==")
        for seal_mm, kind, tilt, rot in (((20.0, 20.0), "square", 0.12, 4.0), ((16.0, 16.0), "round", 0.20, -7.0), ((20.0, 10.0), "square", 0.08, 2.0)):
            t0 = time.perf_counter()
            page = filled_sheet(12.0, seal_mm, seal_kind=kind, pen_mm=0.5)
            jpg = photograph(page, tilt=tilt, rotate_deg=rot, seed=int(seal_mm[1]))
            tpl = SealTemplate("round" if kind == "round" else "square", seal_mm[0], seal_mm[1])
            rs = check_seal(jpg, tpl)
            rg = check_signature(jpg)
            m = rs.measurements
            err = max(abs((m.get("long_mm") or 0) - max(seal_mm)), abs((m.get("short_mm") or 0) - min(seal_mm)))
            ok = rs.dpi_source == "sheet" and err <= 0.5
            sw = rg.check("stroke_width")
            print(f"seal {kind} {seal_mm[0]:g}×{seal_mm[1]:g} mm, tilt {tilt}, rot {rot}°: measured {m.get('long_mm'):.2f}×{m.get('short_mm'):.2f} mm "
                  f"(error {err:.2f} mm) seal {rs.verdict.value}; signature {rg.verdict.value}, pen 0.50 mm measured {sw.value} {sw.unit} "
                  f"{'✔' if ok else '✘ MISS'} ({time.perf_counter() - t0:.1f} s)")
            if not ok:
                misses.append(f"sheet {kind} {seal_mm}")

    print(f"\nmisses: {len(misses)} {misses}")
    known = {"vote_hard15.jpg"}
    return 1 if args.strict and set(misses) - known else 0


if __name__ == "__main__":
    sys.exit(main())
