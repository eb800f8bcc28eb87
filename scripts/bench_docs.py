"""`make bench-docs`: a 12-megapixel photo is checked in at most 3× the time it takes just to decode it.

Same run, interleaved, median (and min) of several repetitions; the decode baseline is Pillow's
full decode to an RGB numpy array.  Two 12 MP photos: a real signature photo upscaled to 4000×3000
(the unknown-scale path) and a synthetic phone photo of the filled calibration sheet (marker
detection + full-resolution rectification).  Exit 1 when a median ratio exceeds 3.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from idsvc.documents import check_seal, check_signature  # noqa: E402
from tests.factories.documents_synth import filled_sheet, photograph, to_jpeg  # noqa: E402

DATA = REPO / "tests" / "data"
LIMIT = 3.0
REPEATS = int(os.environ.get("BENCH_REPEATS", "9"))


def decode_only(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def bench(name: str, data: bytes, check) -> float:
    check(data)  # warm-up (imports, caches)
    dec, chk = [], []
    for _ in range(REPEATS):
        t = time.perf_counter()
        decode_only(data)
        dec.append(time.perf_counter() - t)
        t = time.perf_counter()
        check(data)
        chk.append(time.perf_counter() - t)
    ratio = statistics.median(chk) / statistics.median(dec)
    print(
        f"{name:34s} decode min {min(dec) * 1e3:6.1f} / median {statistics.median(dec) * 1e3:6.1f} ms   "
        f"check min {min(chk) * 1e3:6.1f} / median {statistics.median(chk) * 1e3:6.1f} ms   ratio {ratio:.2f} (limit {LIMIT:g})"
    )
    return ratio


def main() -> int:
    src = DATA / "documents" / "signatures_photos" / "vote_easy15.jpg"
    rgb = np.asarray(Image.open(src).convert("RGB"))
    photo = to_jpeg(cv2.resize(rgb, (4000, 3000), interpolation=cv2.INTER_CUBIC), 92)
    sheet = photograph(filled_sheet(12.0), out_size=(4000, 3000))
    print(
        f"12 MP inputs: signature photo {len(photo) / 1e6:.1f} MB, sheet photo {len(sheet) / 1e6:.1f} MB; {REPEATS} repetitions"
    )
    ratios = [
        bench("signature photo 4000×3000", photo, check_signature),
        bench("sheet photo 4000×3000 → signature", sheet, check_signature),
        bench("sheet photo 4000×3000 → seal", sheet, check_seal),
    ]
    # Seal text OCR (issue #15): a 20 mm seal at 300 dpi, and a 12 MP phone photo of a seal.
    from idsvc.documents import SealTemplate
    from tests.factories.documents_seals import text_seal
    from tests.factories.documents_synth import to_png

    t = SealTemplate(text="任华敏")
    scan = to_png(text_seal("任华敏", "grid"), 300)
    photo_seal = to_jpeg(cv2.resize(text_seal("任华敏", "grid", ppm=300 / 25.4), (4000, 3000)), 92)
    for name, data in (("seal 20 mm @ 300 dpi + text", scan), ("seal photo 4000×3000 + text", photo_seal)):
        check_seal(data, t)  # warm-up: loads the recogniser once
        times = []
        for _ in range(max(3, REPEATS // 3)):
            t0 = time.perf_counter()
            check_seal(data, t)
            times.append(time.perf_counter() - t0)
        no_text = []
        for _ in range(max(3, REPEATS // 3)):
            t0 = time.perf_counter()
            check_seal(data)
            no_text.append(time.perf_counter() - t0)
        print(
            f"{name:34s} check median {statistics.median(times) * 1e3:6.1f} ms (without text "
            f"{statistics.median(no_text) * 1e3:6.1f} ms)"
        )
    worst = max(ratios)
    print(f"worst median ratio {worst:.2f} → {'OK' if worst <= LIMIT else 'TOO SLOW'}")
    return 0 if worst <= LIMIT else 1


if __name__ == "__main__":
    sys.exit(main())
