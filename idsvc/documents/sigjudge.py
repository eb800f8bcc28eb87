"""Signature measurements → the eleven checks clients rely on (ids fixed by the API)."""

from __future__ import annotations

import math

from . import thresholds as T
from .imaging import hue_in
from .result import Check, Verdict, grade, mk
from .signature import SigMeasure

P, W, F, U = Verdict.PASS, Verdict.WARN, Verdict.FAIL, Verdict.UNABLE


def single_signature(m: SigMeasure) -> Check:
    rng = "one signature on blank paper; width 20–90 mm, height 5–40 mm when the scale is known"
    if m.bbox is None:
        return mk(
            "single_signature",
            F,
            0,
            "signatures",
            rng,
            "图片中没有找到签名笔迹",
            "No signature ink was found in the image",
        )
    if m.ink_fraction > T.MAX_INK_FRACTION:
        return mk(
            "single_signature",
            F,
            round(m.ink_fraction, 2),
            "ink fraction",
            rng,
            "图片大部分是深色，不是白纸上的签名，请在白纸上签名后拍照或扫描",
            "Most of the image is dark: this is not a signature on white paper",
            components=m.n_components,
        )
    if m.text_lines >= T.PAGE_MIN_TEXT_LINES:
        return mk(
            "single_signature",
            F,
            m.text_lines,
            "text lines",
            rng,
            "上传的是整页文件（有大量印刷文字），请在白纸上单独签名后拍照或扫描",
            "A whole printed page was uploaded; sign on blank white paper and upload just the signature",
            components=m.n_components,
        )
    rows = [r for r in m.rows if r >= T.SIG_CLUSTER_SIMILAR * m.rows[0]]
    size = m.size_mm()
    if size is not None:
        wmm, hmm = size
        v = P
        if not (
            T.SIG_WIDTH_MM_PASS[0] <= wmm <= T.SIG_WIDTH_MM_PASS[1]
            and T.SIG_HEIGHT_MM_PASS[0] <= hmm <= T.SIG_HEIGHT_MM_PASS[1]
        ):
            v = W
        if not (
            T.SIG_WIDTH_MM_WARN[0] <= wmm <= T.SIG_WIDTH_MM_WARN[1]
            and T.SIG_HEIGHT_MM_WARN[0] <= hmm <= T.SIG_HEIGHT_MM_WARN[1]
        ):
            v = F
        if v is not P and len(rows) == 1:
            return mk(
                "single_signature",
                v,
                round(wmm, 1),
                "mm",
                rng,
                f"签名尺寸 {wmm:.0f}×{hmm:.0f} 毫米不合常规，请按正常大小签名（宽约 20–90 毫米）",
                f"Signature size {wmm:.0f}×{hmm:.0f} mm is unusual; sign at normal size (about 20–90 mm wide)",
                height_mm=round(hmm, 1),
            )
    if len(rows) >= 2:
        return mk(
            "single_signature",
            W,
            len(rows),
            "signatures",
            rng,
            f"图片中似乎有 {len(rows)} 个签名，请只保留一个",
            f"The image seems to contain {len(rows)} signatures; upload exactly one",
        )
    if m.touches_edge:
        return mk(
            "single_signature",
            W,
            1,
            "signatures",
            rng,
            "签名碰到了图片边缘，可能不完整，请在四周留出空白",
            "The signature touches the image edge and may be cut off; leave a margin around it",
        )
    return mk("single_signature", P, 1, "signatures", rng, "找到一个签名", "One signature found")


def lighting(m: SigMeasure, scan: bool) -> Check:
    p = T.LIGHTING_SCAN_PASS if scan else T.LIGHTING_PASS
    rng = f"≤ {p:g} pass; ≤ {T.LIGHTING_WARN:g} warn (ΔL*, p95−p5 of the paper background)"
    v = grade(m.lighting, (0, p), (0, T.LIGHTING_WARN))
    zh = {
        P: "光照均匀",
        W: "光照不太均匀（有阴影或明暗渐变），建议在均匀光线下重拍",
        F: "光照很不均匀（有明显阴影），请在白天窗边或均匀灯光下、避免手和手机的影子重新拍摄",
    }[v]
    en = {
        P: "Lighting is even",
        W: "Lighting is somewhat uneven (shadow or gradient); retake in even light",
        F: "Lighting is very uneven (strong shadow); retake in even daylight without hand or phone shadows",
    }[v]
    return mk("lighting", v, m.lighting, "ΔL*", rng, zh, en)


def paper_white(m: SigMeasure, scan: bool) -> Check:
    C, L = m.paper_C, m.paper_L
    if scan:
        rng = "scan: L* ≥ 85 and C* ≤ 8 pass; L* ≥ 75 and C* ≤ 15 warn"
        v = (
            P
            if (T.PAPER_L_SCAN[0] <= L and T.PAPER_C_SCAN[0] >= C)
            else W
            if (T.PAPER_L_SCAN[1] <= L and T.PAPER_C_SCAN[1] >= C)
            else F
        )
    else:
        rng = "photo: C* ≤ 12 pass; ≤ 20 warn; paper L* < 40 warns (under-exposed)"
        v = grade(C, (0, T.PAPER_C_PHOTO[0]), (0, T.PAPER_C_PHOTO[1]))
        if v is P and L < T.PAPER_L_PHOTO_DARK:
            return mk(
                "paper_white",
                W,
                round(C, 1),
                "C*",
                rng,
                "照片太暗，纸张看起来发灰，请在更亮的地方重拍",
                "The photo is under-exposed (the paper looks grey); retake in brighter light",
                paper_L=round(L, 1),
            )
    zh = {
        P: "纸张为白色",
        W: "纸张偏色（或灯光偏黄/偏蓝），请使用白纸并在自然光下拍摄",
        F: "纸张不是白色，请使用白色无格的纸重新签名",
    }[v]
    en = {
        P: "The paper is white",
        W: "The paper looks tinted (or the light is coloured); use white paper in daylight",
        F: "The paper is not white; sign again on plain white paper",
    }[v]
    return mk("paper_white", v, round(C, 1), "C*", rng, zh, en, paper_L=round(L, 1))


def ruled_lines(m: SigMeasure) -> Check:
    rng = "0–1 line pass; ≥ 2 long parallel lines fail"
    if m.ruled >= T.RULED_MIN_LINES:
        return mk(
            "ruled_lines",
            F,
            m.ruled,
            "lines",
            rng,
            "纸上有横线/格线，请在没有格线的白纸上签名",
            "The paper is ruled; sign on plain paper without lines",
            angle_deg=m.ruled_angle,
        )
    return mk("ruled_lines", P, m.ruled, "lines", rng, "纸上没有格线", "No ruled lines")


def _colour_name(h: float) -> tuple[str, str]:
    if hue_in(h, *T.BLUE_HUE):
        return "蓝色", "blue"
    if hue_in(h, *T.GREEN_HUE):
        return "绿色", "green"
    if hue_in(h, 330.0, 60.0):
        return "红色/棕色", "red/brown"
    return "彩色", "coloured"


def ink_black(m: SigMeasure, colour_image: bool) -> Check:
    rng = "C* < 10 and L* ≤ 45 pass (C* < 15 if L* ≤ 25); C* 10–15 blue-ish or L* 45–55 warn"
    if m.bbox is None:
        return mk("ink_black", U, None, "C*", rng, "没有找到笔迹", "No ink found")
    if not colour_image:
        return mk(
            "ink_black",
            U,
            None,
            "C*",
            rng,
            "这是黑白/灰度图片，无法判断墨水颜色，请上传彩色照片或扫描",
            "A greyscale image cannot show the ink colour; upload a colour photo or scan",
        )
    C, L, h = m.ink_C, m.ink_L, m.ink_hue
    d = {"ink_L": round(L, 1), "hue_deg": round(h)}
    if C >= T.INK_CHROMA_FAIL:
        zh, en = _colour_name(h)
        return mk(
            "ink_black",
            F,
            round(C, 1),
            "C*",
            rng,
            f"笔迹是{zh}的，请使用黑色笔重新签名",
            f"The ink is {en}; sign again with a black pen",
            **d,
        )
    if C >= T.INK_CHROMA_WARN and L > T.INK_VERY_DARK_L and hue_in(h, *T.BLUE_HUE):
        return mk(
            "ink_black",
            W,
            round(C, 1),
            "C*",
            rng,
            "笔迹可能是蓝黑色，请确认使用的是黑色笔",
            "The ink may be blue-black; make sure you used a black pen",
            **d,
        )
    if L > T.INK_L_WARN:
        return mk(
            "ink_black",
            F,
            round(C, 1),
            "C*",
            rng,
            "笔迹太浅（像铅笔或快没水的笔），请用黑色中粗签字笔重新签名",
            "The ink is too light (pencil or a fading pen); sign again with a medium-thick black pen",
            **d,
        )
    if L > T.INK_L_PASS:
        return mk(
            "ink_black",
            W,
            round(C, 1),
            "C*",
            rng,
            "笔迹偏浅，建议使用颜色更深的黑色笔",
            "The ink is rather light; a darker black pen is recommended",
            **d,
        )
    return mk("ink_black", P, round(C, 1), "C*", rng, "笔迹为黑色", "The ink is black", **d)


def stroke_width(m: SigMeasure) -> Check:
    if m.bbox is None or m.stroke_px <= 0:
        return mk("stroke_width", U, None, "mm", "0.30–1.0 mm", "没有找到笔迹", "No ink found")
    if m.stroke_mm is not None:
        mm = m.stroke_mm
        rng = "0.30–1.0 mm pass; 0.20–0.30 or 1.0–1.5 mm warn"
        v = grade(mm, T.STROKE_MM_PASS, T.STROKE_MM_WARN)
        if v is P:
            zh, en = "笔画粗细合适", "Stroke width is fine"
        elif mm < T.STROKE_MM_PASS[0]:
            zh, en = (
                "笔画太细，请使用 0.5–0.7 毫米的黑色中粗签字笔",
                "Strokes are too thin; use a 0.5–0.7 mm black gel pen",
            )
        else:
            zh, en = (
                "笔画太粗，请使用中粗签字笔而不是马克笔",
                "Strokes are too thick; use a medium gel pen, not a marker",
            )
        return mk("stroke_width", v, round(mm, 3), "mm", rng, zh, en, px=round(m.stroke_px, 2))
    rng = "scale unknown: ≥ 3 px resolved, 2–3 px warn, < 2 px fail; mm needs a scan or the sheet"
    px = m.stroke_px
    if px < T.STROKE_PX_WARN:
        return mk(
            "stroke_width",
            F,
            round(px, 2),
            "px",
            rng,
            "笔画太细或图片分辨率太低，请用中粗黑笔签名并靠近拍摄",
            "Strokes are too thin or the image resolution too low; use a thicker pen and photograph closer",
        )
    if px < T.STROKE_PX_PASS:
        return mk(
            "stroke_width",
            W,
            round(px, 2),
            "px",
            rng,
            "笔画偏细或图片分辨率偏低",
            "Strokes are thin or the resolution is low",
        )
    return mk(
        "stroke_width",
        U,
        round(px, 2),
        "px",
        rng,
        "无法确定实际尺寸，笔画毫米粗细未核对（可使用校准纸）",
        "Scale unknown: the stroke width in mm was not verified (use the calibration sheet)",
    )


def sharpness(m: SigMeasure) -> Check:
    rng = f"≥ {T.SHARP_PASS} pass; {T.SHARP_WARN}–{T.SHARP_PASS} warn (edge gradient ÷ contrast)"
    s = m.sharpness
    if m.bbox is None or math.isnan(s):
        return mk("sharpness", U, None, "", rng, "没有找到笔迹", "No ink found")
    if s > T.SHARP_LOW_CONTRAST:
        return mk(
            "sharpness",
            W,
            round(s, 3),
            "",
            rng,
            "笔迹与纸张对比太弱，无法判断清晰度",
            "Ink/paper contrast is too low to judge sharpness",
        )
    v = grade(s, (T.SHARP_PASS, math.inf), (T.SHARP_WARN, math.inf))
    zh = {P: "图像清晰", W: "图像有些模糊，建议对焦后重拍", F: "图像模糊，请对准焦点、拿稳手机重新拍摄"}[v]
    en = {
        P: "The image is sharp",
        W: "The image is slightly blurred; refocus and retake",
        F: "The image is blurred; focus and hold the phone steady",
    }[v]
    return mk("sharpness", v, round(s, 3), "", rng, zh, en)


def contrast(m: SigMeasure) -> Check:
    rng = f"≥ {T.CONTRAST_PASS:g} pass; {T.CONTRAST_WARN:g}–{T.CONTRAST_PASS:g} warn (paper − ink grey, 0–255)"
    if m.bbox is None:
        return mk("contrast", U, None, "grey levels", rng, "没有找到笔迹", "No ink found")
    v = grade(m.contrast, (T.CONTRAST_PASS, 255), (T.CONTRAST_WARN, 255))
    zh = {
        P: "对比度足够",
        W: "对比度偏低（纸张发灰或笔迹偏浅），请在明亮处拍摄并用黑色笔",
        F: "对比度太低，笔迹看不清，请在明亮处用黑色中粗笔重新签名并拍摄",
    }[v]
    en = {
        P: "Contrast is sufficient",
        W: "Contrast is low (grey paper or light ink); use brighter light and a black pen",
        F: "Contrast is too low; sign with a black pen and photograph in bright light",
    }[v]
    return mk("contrast", v, round(m.contrast, 1), "grey levels", rng, zh, en)


def skew(m: SigMeasure, from_sheet: bool) -> Check:
    rng = f"≤ {T.SKEW_PASS:g}° pass; ≤ {T.SKEW_WARN:g}° warn (paper corners / edges)"
    if from_sheet:
        return mk(
            "skew", P, 0.0, "°", rng, "已按校准纸标记校正透视", "Perspective corrected using the calibration sheet"
        )
    if m.skew is None:
        return mk(
            "skew", P, None, "°", rng, "未见纸张边缘（已裁剪到纸内）", "No paper edge visible (cropped to the paper)"
        )
    v = grade(m.skew, (0, T.SKEW_PASS), (0, T.SKEW_WARN))
    zh = {P: "纸张端正", W: "纸张有些倾斜，请正对纸张拍摄", F: "纸张严重倾斜或透视变形，请把手机与纸面平行、正对拍摄"}[
        v
    ]
    en = {
        P: "The paper is square to the camera",
        W: "The paper is somewhat tilted; hold the phone square to it",
        F: "The paper is strongly tilted; hold the phone parallel to the paper",
    }[v]
    return mk("skew", v, round(m.skew, 1), "°", rng, zh, en)


def judge(m: SigMeasure, *, scan: bool, from_sheet: bool, colour_image: bool) -> list[Check]:
    return [
        single_signature(m),
        lighting(m, scan),
        paper_white(m, scan),
        ruled_lines(m),
        ink_black(m, colour_image),
        stroke_width(m),
        sharpness(m),
        contrast(m),
        skew(m, from_sheet),
    ]
