"""`make eval-docs`: every sample in tests/data/documents against its expected verdict, the
generated defect set, and the calibration-sheet round trip.  Prints expected vs actual and the
rule(s) that decided; exits 0 (misses are reported, not hidden) unless --strict and a target fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from idsvc.documents import check_seal, check_signature  # noqa: E402
from idsvc.documents.config import SealTemplate  # noqa: E402
from tests.factories.documents_defects import seal_defects, signature_defects  # noqa: E402
from tests.factories.documents_golden import SEALS, SIGNATURES, decided, match  # noqa: E402
from tests.factories.documents_synth import filled_sheet, photograph, to_jpeg, to_png  # noqa: E402

DATA = REPO / "tests" / "data"
DOCS = DATA / "documents"


def seal_text_eval(n: int) -> dict[str, int]:
    """Seal text over ``n`` generated names: right name / another name / heavy blur / half-stamped."""
    from collections import Counter

    from tests.factories.documents_seals import generated_names, text_seal
    from tests.factories.documents_synth import to_png

    names = generated_names(n)
    tally: Counter[str] = Counter()
    print(f"\n== Seal text: {n} generated names (2-4 characters; grid / cols3 / row; hei / song fonts) ==")
    for i, name in enumerate(names):
        layout = ["grid", "cols3", "row"][i % 3]
        if layout == "cols3" and len(name) == 4:
            layout = "grid"
        other = names[(i + 7) % len(names)]
        kw = {"angle": (i % 5 - 2) * 1.5, "seed": i, "font": ["hei", "song"][i % 2]}
        for case, expected, extra in (
            ("right", name, {}),
            ("other", other, {}),
            ("blur", name, {"blur_px": 9.0}),
            ("half", name, {"half": True}),
        ):
            r = check_seal(to_png(text_seal(name, layout, **kw, **extra), 300), SealTemplate(text=expected))
            c = r.check("text")
            v = c.verdict.value if c else "?"
            tally[f"{case}:{v}"] += 1
            if (
                (case == "right" and v != "pass")
                or (case == "other" and v != "fail")
                or (case != "right" and v == "pass")
            ):
                print(
                    f"  {case:5s} {name:6s} {layout:5s} expected {expected:6s} → {v:6s} read {c.value if c else None}"
                )
    right, other = (sum(v for k, v in tally.items() if k.startswith(p)) for p in ("right:", "other:"))
    false_pass = sum(tally[f"{c}:pass"] for c in ("other", "blur", "half"))
    print(
        f"right name PASS {tally['right:pass']}/{right} (FAIL {tally['right:fail']}); another name FAIL "
        f"{tally['other:fail']}/{other}; blurred/half-stamped PASS {tally['blur:pass'] + tally['half:pass']}/{2 * n} "
        f"(right name, incomplete impression); false PASS for another name {tally['other:pass']}"
    )
    print("all verdicts:", dict(sorted(tally.items())), "false_pass(any defect):", false_pass)
    return dict(tally)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seal-names", type=int, default=60, help="generated names for the seal-text evaluation")
    ap.add_argument("--strict", action="store_true", help="exit 1 on any miss except hard15 (documented)")
    ap.add_argument("--no-sheet", action="store_true", help="skip the calibration-sheet round trip")
    args = ap.parse_args()
    if args.seal_names:
        seal_text_eval(args.seal_names)
    if not DOCS.is_dir():
        print(f"sample documents not found at {DOCS}")
        return 2
    misses: list[str] = []
    print("== Real samples (tests/data/documents) ==")
    print(f"{'file':38s} {'expected':9s} {'actual':7s} {'ok':3s} decided by / misses")
    for name, (overall, rules, note) in SIGNATURES.items():
        path = next(DOCS.glob(f"*/{name}"))
        r = check_signature(path.read_bytes())
        ok, why = match(r, overall, rules)
        exp = overall + ":" + ",".join(f"{k}={v}" for k, v in rules.items())
        print(
            f"{name:38s} {overall:9s} {r.verdict.value:7s} {'✔' if ok else '✘':3s} {decided(r)}  [{note}; want {exp}]"
            + ("" if ok else f"  MISS: {'; '.join(why)}")
        )
        if not ok:
            misses.append(name)
    for name, (tpl, overall, rules, truth) in SEALS.items():
        r = check_seal((DOCS / "seals_synthetic" / name).read_bytes(), tpl)
        ok, why = match(r, overall, rules)
        size = r.check("size")
        print(
            f"{name:38s} {overall:9s} {r.verdict.value:7s} {'✔' if ok else '✘':3s} {decided(r)}  [truth {truth} mm, measured {size.value if size else None} mm vs {tpl.describe()}]"
            + ("" if ok else f"  MISS: {'; '.join(why)}")
        )
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
            print(
                f"{name:26s} owner {owner:16s} {got:6s} value={c.value if c else None!s:16s} {'✔' if ok else '✘ MISS'}  overall {r.verdict.value} ({decided(r)})"
            )
        else:
            ok = r.verdict.value != "fail"
            print(
                f"{name:26s} clean                  overall {r.verdict.value:6s} {'✔' if ok else '✘ MISS'} ({decided(r)})"
            )
        if not ok:
            misses.append(name)
    print(f"defects flagged by their owning rule: {flagged}/{total}")

    if not args.no_sheet:
        print("\n== Calibration sheet round trip (render PDF → fill → synthetic phone photo → rectify) ==")
        for seal_mm, kind, tilt, rot in (
            ((20.0, 20.0), "square", 0.12, 4.0),
            ((16.0, 16.0), "round", 0.20, -7.0),
            ((20.0, 10.0), "square", 0.08, 2.0),
        ):
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
            print(
                f"seal {kind} {seal_mm[0]:g}×{seal_mm[1]:g} mm, tilt {tilt}, rot {rot}°: measured {m.get('long_mm'):.2f}×{m.get('short_mm'):.2f} mm "
                f"(error {err:.2f} mm) seal {rs.verdict.value}; signature {rg.verdict.value}, pen 0.50 mm measured {sw.value} {sw.unit} "
                f"{'✔' if ok else '✘ MISS'} ({time.perf_counter() - t0:.1f} s)"
            )
            if not ok:
                misses.append(f"sheet {kind} {seal_mm}")

    print(f"\nmisses: {len(misses)} {misses}")
    known = {"vote_hard15.jpg"}
    return 1 if args.strict and set(misses) - known else 0


if __name__ == "__main__":
    sys.exit(main())
