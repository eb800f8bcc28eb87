"""The calibration sheet for real: PDF → render → fill → synthetic phone photo → rectify → mm.
Plus the cleaned assets and the generated defect set."""

from __future__ import annotations

import io

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from idsvc.documents import SealTemplate, check_seal, check_signature, sheet_pdf
from idsvc.documents.rectify import detect_markers
from idsvc.documents.sheet import BOXES, PAGE_MM
from idsvc.documents.similarity import compare
from tests.factories.documents_defects import seal_defects, signature_defects
from tests.factories.documents_synth import (
    filled_sheet,
    photograph,
    render_sheet,
    to_jpeg,
    to_png,
)

from .conftest import sample


def test_sheet_pdf_is_one_a4_page_with_chinese_text_and_all_markers() -> None:
    pdf = sheet_pdf()
    doc = pdfium.PdfDocument(pdf)
    try:
        assert len(doc) == 1
        w, h = doc[0].get_size()
        assert (w * 25.4 / 72, h * 25.4 / 72) == pytest.approx(PAGE_MM, abs=0.5)
        text = doc[0].get_textpage().get_text_range()
        assert "签名" in text and "印章" in text and "100%" in text
    finally:
        doc.close()
    markers = detect_markers(render_sheet(6.0))
    assert sorted(markers) == list(range(8))


@pytest.fixture(scope="module")
def sheet_photo() -> bytes:
    page = filled_sheet(12.0, (20.0, 20.0), seal_kind="square", pen_mm=0.5)
    return photograph(
        page, out_size=(4000, 3000), tilt=0.15, rotate_deg=6.0, gradient=0.35, noise=3.0, quality=85, seed=4
    )


@pytest.mark.slow
def test_seal_size_measured_back_from_a_phone_photo_of_the_sheet(sheet_photo: bytes) -> None:
    r = check_seal(sheet_photo, SealTemplate("square", 20, 20))
    assert r.dpi_source == "sheet"
    assert r.measurements["long_mm"] == pytest.approx(20.0, abs=0.5)
    assert r.measurements["short_mm"] == pytest.approx(20.0, abs=0.5)
    assert r.verdict.value == "pass", [c.to_dict() for c in r.checks if c.verdict.value != "pass"]


@pytest.mark.slow
def test_pen_width_measured_from_a_phone_photo_of_the_sheet(sheet_photo: bytes) -> None:
    r = check_signature(sheet_photo)
    assert r.dpi_source == "sheet"
    c = r.check("stroke_width")
    assert c.unit == "mm" and c.value == pytest.approx(0.5, abs=0.08)
    assert r.verdict.value == "pass"


@pytest.mark.slow
def test_round_seal_on_a_tilted_sheet() -> None:
    page = filled_sheet(12.0, (16.0, 16.0), seal_kind="round")
    jpg = photograph(page, tilt=0.22, rotate_deg=-9.0, seed=9, quality=80)
    r = check_seal(jpg, SealTemplate("round", 16, 16))
    assert r.measurements["long_mm"] == pytest.approx(16.0, abs=0.5)
    assert r.check("shape").verdict.value == "pass"


def test_signature_asset_is_transparent_black_at_300_dpi(docs_dir) -> None:
    r = check_signature(sample(docs_dir, "vote_easy15.jpg"))
    im = Image.open(io.BytesIO(r.asset_png))
    assert im.mode == "RGBA" and round(im.info["dpi"][0]) == 300
    a = np.asarray(im)
    assert a[..., :3].max() == 0  # ink colour normalised to black
    alpha = a[..., 3]
    assert (alpha == 0).mean() > 0.6 and alpha.max() == 255  # background transparent, strokes opaque
    # nominal 50 mm wide (+ 2 × 3 mm margin) at 300 dpi when the scale is unknown
    assert im.width == pytest.approx(56 / 25.4 * 300, rel=0.05)


def test_seal_asset_is_cropped_red_and_upright(docs_dir) -> None:
    r = check_seal(sample(docs_dir, "synth_seal_square20_red_ok.png"))
    im = Image.open(io.BytesIO(r.asset_png))
    assert round(im.info["dpi"][0]) == 300
    assert im.width == pytest.approx((20 + 2 * 1.5) / 25.4 * 300, rel=0.04)  # hull + 1.5 mm margins, rotated upright
    a = np.asarray(im)
    opaque = a[..., 3] > 128
    assert tuple(a[opaque][0, :3]) == (200, 20, 30)
    # Upright: the outline's top row is as wide as the seal.
    rows = np.flatnonzero(opaque.any(axis=1))
    top = opaque[rows[0] + 3]
    assert top.sum() > 0.8 * (20 / 25.4 * 300)


def test_similarity_is_a_score_only(docs_dir) -> None:
    a = check_signature(sample(docs_dir, "vote_easy14.jpg")).asset_png
    b = check_signature(sample(docs_dir, "vote_easy15.jpg")).asset_png
    same = compare(a, a)["score"]
    other = compare(a, b)["score"]
    assert same == pytest.approx(1.0, abs=1e-3) and other < same
    r = check_signature(sample(docs_dir, "vote_easy14.jpg"), reference_png=b)
    assert r.similarity is not None and "never" in r.similarity["note"]
    assert r.verdict.value != "fail"


@pytest.mark.slow
def test_every_generated_defect_is_flagged_by_its_rule(docs_dir) -> None:
    photo = np.asarray(Image.open(next(docs_dir.glob("*/vote_easy14.jpg"))).convert("RGB"))
    missed = []
    for name, (kind, build, owner, scan) in {**signature_defects(photo), **seal_defects()}.items():
        img = build()
        data = to_png(img, 300) if scan else to_jpeg(img, 92)
        r = check_signature(data) if kind == "signature" else check_seal(data)
        if owner:
            if r.check(owner).verdict.value not in ("warn", "fail"):
                missed.append((name, r.check(owner).to_dict()))
        elif r.verdict.value == "fail":
            missed.append((name, r.failed()))
    assert not missed, missed


def test_box_layout_leaves_room_for_markers() -> None:
    for box in BOXES.values():
        for x, y in box.marker_origins().values():
            assert x >= 5 and x + 16 <= PAGE_MM[0] - 5 and y >= 5 and y + 16 <= PAGE_MM[1] - 5
