"""The thin public layer: bytes in, :class:`Result` out (modelled on face_recognition's api.py).

    check_signature(data, dpi=None, reference_png=None) -> Result
    check_seal(data, template, dpi=None) -> Result
    sheet_pdf() -> bytes

Raises :class:`idsvc.core.errors.IdsvcError` (4xx) only when the input cannot be evaluated at all;
everything else — including a FAIL — is a Result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from . import seal as seal_mod
from . import sealjudge, sealtext, sigjudge
from . import signature as sig_mod
from . import thresholds as T
from .assets import seal_png, signature_png
from .config import SealTemplate
from .decode import ImageInfo, decode, open_checked
from .filecheck import file_check, looks_grey
from .imaging import resize_to
from .rectify import SheetFit, detect_markers, fit, warp_box
from .result import Check, Result, Verdict
from .scale import Scale, from_declaration, scale_check
from .sheet import render_pdf
from .similarity import compare

SHEET_DECODE_LONG_SIDE = (
    1600  # first decode (JPEG DCT-scaled to ≥ this): finds the sheet markers, analyses a photo at ≤ 1200
)


@dataclass
class Prepared:
    rgb: np.ndarray  # analysis image
    info: ImageInfo
    scale: Scale
    px_per_mm: float | None  # of ``rgb``
    sheet: SheetFit | None
    grey: bool


def _prepare(data: bytes, box: str, client_dpi: float | None) -> Prepared:
    im = open_checked(data)  # header only: cheap, and every refusal happens before decoding
    w0, h0 = im.size
    probe_dpi = None
    if client_dpi:
        probe_dpi = client_dpi
    elif im.info.get("dpi"):
        try:
            probe_dpi = float(im.info["dpi"][0])
        except (TypeError, ValueError, IndexError):
            probe_dpi = None
    long0 = max(w0, h0)
    target = SHEET_DECODE_LONG_SIDE
    if probe_dpi and T.DPI_TRUSTED[0] <= probe_dpi <= T.DPI_TRUSTED[1]:
        target = max(target, int(long0 * min(1.0, T.ANALYSIS_DPI / probe_dpi)) + 1)
    rgb, info, dscale = decode(data, max_long_side=target)
    grey = info.grayscale or looks_grey(rgb)
    scale = from_declaration(info.declared_dpi, info.camera, client_dpi)

    markers = detect_markers(rgb) if scale.dpi is None else {}
    sheet = fit(markers, box) if markers else None
    if sheet is not None:
        ppm_full = sheet.px_per_mm / dscale  # photo resolution at full size
        ppm = min(T.ANALYSIS_DPI / T.MM_PER_INCH, ppm_full)
        if ppm > sheet.px_per_mm * 1.15 and dscale < 1.0:
            full, _, _ = decode(data)  # the box needs more pixels than the quick decode kept
            crop = warp_box(full, sheet, box, ppm, image_scale=1.0 / dscale)
        else:
            crop = warp_box(rgb, sheet, box, ppm)
        return Prepared(crop, info, Scale(ppm * T.MM_PER_INCH, "sheet", scale.declared, ""), ppm, sheet, grey)

    if scale.dpi is not None:
        eff_dpi = scale.dpi * dscale
        f = min(1.0, T.ANALYSIS_DPI / eff_dpi)
        rgb = resize_to(rgb, f)
        return Prepared(rgb, info, scale, eff_dpi * f / T.MM_PER_INCH, None, grey)
    f = min(1.0, T.ANALYSIS_LONG_SIDE / max(rgb.shape[:2]))
    return Prepared(resize_to(rgb, f), info, scale, None, None, grey)


def check_signature(data: bytes, dpi: float | None = None, reference_png: bytes | None = None) -> Result:
    p = _prepare(data, "signature", dpi)
    m, px = sig_mod.measure(p.rgb, p.px_per_mm)
    checks: list[Check] = [file_check(p.info, "signature", p.grey)]
    implausible = None
    size = m.size_mm()
    if (
        size
        and p.scale.source == "declared"
        and not (T.SIG_PLAUSIBLE_WIDTH_MM[0] <= size[0] <= T.SIG_PLAUSIBLE_WIDTH_MM[1])
        and m.text_lines < T.PAGE_MIN_TEXT_LINES
    ):
        implausible = f"{size[0]:.0f} mm"
        m.px_per_mm = None  # a lying DPI: judge in px like a photo
    checks.append(scale_check(p.scale, "signature", implausible))
    checks += sigjudge.judge(
        m,
        scan=p.scale.source == "declared" and implausible is None,
        from_sheet=p.sheet is not None,
        colour_image=not p.grey,
    )
    asset = None
    if m.bbox is not None and m.text_lines < T.PAGE_MIN_TEXT_LINES:
        asset = signature_png(px.norm_grey, px.ink, m.bbox, m.ink_core_grey, m.px_per_mm)
    sim = compare(asset, reference_png) if (asset and reference_png) else None
    return Result(
        "signature",
        tuple(checks),
        p.scale.dpi if implausible is None else None,
        p.scale.source if implausible is None else "unknown",
        p.info.to_dict(),
        asset,
        _sig_measurements(m, p),
        sim,
    )


def _sig_measurements(m: sig_mod.SigMeasure, p: Prepared) -> dict[str, Any]:
    out = {
        "lighting_dL": m.lighting,
        "paper_L": m.paper_L,
        "paper_C": m.paper_C,
        "ruled_lines": m.ruled,
        "ink_L": m.ink_L,
        "ink_C": m.ink_C,
        "ink_hue": m.ink_hue,
        "stroke_px": m.stroke_px,
        "stroke_mm": m.stroke_mm,
        "sharpness": m.sharpness,
        "contrast": m.contrast,
        "skew_deg": m.skew,
        "signatures": len(m.rows),
        "components": m.n_components,
    }
    if p.sheet is not None:
        out.update(
            sheet_markers=len(p.sheet.marker_ids),
            sheet_reprojection_px=p.sheet.reprojection_px,
            sheet_tilt_deg=p.sheet.tilt_deg,
        )
    return out


def check_seal(data: bytes, template: SealTemplate | None = None, dpi: float | None = None) -> Result:
    t = template or SealTemplate()
    p = _prepare(data, "seal", dpi)
    # Morphology needs a rough px/mm even when the scale is unknown: assume the image is ~2.5 seals wide.
    hint = p.px_per_mm or max(p.rgb.shape[:2]) / (2.5 * t.dims()[0])
    m, px = seal_mod.measure(p.rgb, hint)
    if p.px_per_mm is None and m.found:
        hint = m.long_px / t.dims()[0]  # self-consistent estimate for the band width / asset size
        m, px = seal_mod.measure(p.rgb, hint)
    checks: list[Check] = [file_check(p.info, "seal", p.grey)]
    ppm = p.px_per_mm
    implausible = None
    if ppm and m.found:
        long_mm = m.long_px / ppm
        if not (T.SEAL_PLAUSIBLE_MM[0] <= long_mm <= T.SEAL_PLAUSIBLE_MM[1]) and p.scale.source == "declared":
            implausible, ppm = f"{long_mm:.1f} mm", None
    checks.append(scale_check(p.scale, "seal", implausible))
    st = sealtext.read(px, m) if (t.text and m.found) else None
    checks += sealjudge.judge(m, t, ppm, st)
    asset = None
    if m.found and px.hull is not None:
        asset = seal_png(px.chroma, px.hull, m.angle_deg, ppm or hint, upright=m.shape not in ("round",))
    meas = {
        "shape": m.shape,
        "circularity": m.circularity,
        "fill": m.fill,
        "aspect": m.aspect,
        "long_mm": (m.long_px / ppm) if ppm else None,
        "short_mm": (m.short_px / ppm) if ppm else None,
        "angle_deg": m.angle_deg,
        "coverage": m.coverage,
        "ink_C": m.ink_C,
        "ink_hue": m.ink_hue,
        "red_fraction": m.red_fraction,
        "impressions": m.n_blobs,
        "template": {"shape": t.shape, "width_mm": t.width_mm, "height_mm": t.height_mm},
    }
    if p.sheet is not None:
        meas.update(sheet_markers=len(p.sheet.marker_ids), sheet_reprojection_px=p.sheet.reprojection_px)
    return Result(
        "seal",
        tuple(checks),
        p.scale.dpi if ppm else None,
        p.scale.source if ppm else "unknown",
        p.info.to_dict(),
        asset,
        meas,
    )


def sheet_pdf() -> bytes:
    return render_pdf()


__all__ = ["Check", "Result", "SealTemplate", "Verdict", "check_seal", "check_signature", "sheet_pdf"]
