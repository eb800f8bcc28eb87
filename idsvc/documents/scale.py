"""Scale: which DPI (if any) can be trusted, and the `scale` check."""

from __future__ import annotations

from dataclasses import dataclass

from . import thresholds as T
from .result import Check, Verdict, mk


@dataclass(frozen=True)
class Scale:
    dpi: float | None  # trusted dots per inch of the *original* image; None = unknown
    source: str  # "declared" | "sheet" | "unknown"
    declared: float | None  # what the file (or the client) claimed
    reason: str  # why an untrusted DPI was rejected ("" when trusted)

    @property
    def px_per_mm(self) -> float | None:
        return None if self.dpi is None else self.dpi / T.MM_PER_INCH


def from_declaration(declared: float | None, camera: bool, client_dpi: float | None = None) -> Scale:
    """A client-supplied ``dpi`` (the member says "I scanned at 300") overrides the file's tag but
    passes the same plausibility gate; phone defaults (72/96 or camera EXIF) are not a scale."""
    claim = client_dpi if client_dpi else declared
    if claim is None:
        return Scale(None, "unknown", None, "none")
    if client_dpi is None and camera:
        return Scale(None, "unknown", claim, "camera")
    if claim < T.DPI_TRUSTED[0] or claim > T.DPI_TRUSTED[1]:
        return Scale(None, "unknown", claim, "implausible")
    return Scale(float(claim), "declared", claim, "")


def scale_check(scale: Scale, kind: str, implausible_size: str | None = None) -> Check:
    """``implausible_size`` (e.g. "67.6 mm") means the DPI was trusted but the object measured
    absurdly under it, so the tag lies (design P1: the 72-dpi synthetic seal measures 67.6 mm)."""
    rng = "300–600 dpi pass; 200–299 warn; declared by a scanner, or from the calibration sheet"
    must = kind == "seal"  # a seal's size is the point of the check: unknown scale is a FAIL
    if scale.source == "sheet":
        return mk(
            "scale",
            Verdict.PASS,
            round(scale.dpi or 0, 1),
            "dpi",
            rng,
            "已通过校准纸上的定位标记确定实际尺寸",
            "Scale taken from the calibration sheet markers",
        )
    if implausible_size is not None:
        return mk(
            "scale",
            Verdict.FAIL if must else Verdict.UNABLE,
            scale.dpi,
            "dpi",
            rng,
            f"按文件标注的 {scale.dpi:.0f} dpi 计算，尺寸为 {implausible_size}，不合常理；请用扫描仪按 300 dpi、100% 比例扫描，或使用校准纸拍照",
            f"At the declared {scale.dpi:.0f} dpi the object would measure {implausible_size}, which is implausible; "
            "scan at 300 dpi, 100 %, or photograph it on the calibration sheet",
        )
    if scale.dpi is None:
        why_zh = {
            "camera": "手机照片的分辨率标注不代表实际尺寸",
            "implausible": f"标注的 {scale.declared or 0:.0f} dpi 不是扫描仪分辨率",
            "none": "图片没有分辨率信息",
        }.get(scale.reason, "无法确定实际尺寸")
        why_en = {
            "camera": "a phone photo's DPI tag is not a physical scale",
            "implausible": f"the declared {scale.declared or 0:.0f} dpi is not a scanner resolution",
            "none": "the image carries no resolution",
        }.get(scale.reason, "the physical scale is unknown")
        if scale.reason == "implausible" and scale.declared and 100 <= scale.declared < T.DPI_TRUSTED[0]:
            return mk(
                "scale",
                Verdict.FAIL,
                scale.declared,
                "dpi",
                rng,
                f"扫描分辨率 {scale.declared:.0f} dpi 太低，请按 300 dpi 重新扫描",
                f"Scan resolution {scale.declared:.0f} dpi is too low; rescan at 300 dpi",
            )
        if must:
            return mk(
                "scale",
                Verdict.FAIL,
                scale.declared,
                "dpi",
                rng,
                f"{why_zh}，无法核对印章尺寸：请用扫描仪按 300 dpi、100% 比例扫描，或下载校准纸盖章后拍照",
                f"{why_en.capitalize()}, so the seal size cannot be verified: scan at 300 dpi, 100 %, "
                "or stamp on the calibration sheet and photograph it",
            )
        return mk(
            "scale",
            Verdict.UNABLE,
            scale.declared,
            "dpi",
            rng,
            f"{why_zh}，笔迹粗细（毫米）无法核对；如需核对请使用扫描仪（300 dpi）或校准纸",
            f"{why_en.capitalize()}; pen width in mm cannot be verified — use a 300 dpi scan or the calibration sheet",
        )
    if scale.dpi >= T.DPI_PASS[0]:
        return mk("scale", Verdict.PASS, scale.dpi, "dpi", rng, "扫描分辨率合格", "Scan resolution is fine")
    return mk(
        "scale",
        Verdict.WARN,
        scale.dpi,
        "dpi",
        rng,
        f"扫描分辨率 {scale.dpi:.0f} dpi 偏低，建议使用 300 dpi",
        f"Scan resolution {scale.dpi:.0f} dpi is low; 300 dpi is recommended",
    )
