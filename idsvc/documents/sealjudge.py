"""Seal measurements → the checks clients rely on: ink_red, complete, shape, size, rotation, text."""

from __future__ import annotations

from dataclasses import replace

from . import thresholds as T
from .config import SealTemplate, format_size
from .imaging import hue_in
from .result import Check, Verdict, mk
from .seal import SealMeasure
from .sealtext import SealText, expected_texts, judge_text

P, W, F, U = Verdict.PASS, Verdict.WARN, Verdict.FAIL, Verdict.UNABLE
_SHAPE_ZH = {
    "round": "圆形",
    "square": "方形",
    "rect": "长方形",
    "oval": "椭圆形",
    "irregular": "不规则形",
    "none": "无",
}


def _hue_name(h: float, C: float) -> tuple[str, str]:
    if C < T.INK_CHROMA_WARN:
        return "黑色/灰色", "black/grey"
    if hue_in(h, 230.0, 330.0):
        return "蓝色/紫色", "blue/purple"
    if hue_in(h, 90.0, 230.0):
        return "绿色", "green"
    if hue_in(h, 50.0, 90.0):
        return "黄色/棕色", "yellow/brown"
    return "红色", "red"


def ink_red(m: SealMeasure) -> Check:
    rng = f"hue 330°–50°; median C* ≥ {T.SEAL_CHROMA_PASS:g} pass, ≥ {T.SEAL_CHROMA_WARN:g} warn"
    if not m.found:
        return mk("ink_red", F, None, "C*", rng, "图片中没有找到印章", "No seal impression was found")
    d = {"hue_deg": round(m.ink_hue), "red_fraction": round(m.red_fraction, 2)}
    if m.red_fraction < 0.5 or m.ink_C < T.INK_CHROMA_WARN:
        zh, en = _hue_name(m.ink_hue, m.ink_C)
        return mk(
            "ink_red",
            F,
            round(m.ink_C, 1),
            "C*",
            rng,
            f"印泥颜色是{zh}，请使用红色印泥重新盖章",
            f"The seal ink is {en}; stamp again with red ink",
            **d,
        )
    if m.ink_C < T.SEAL_CHROMA_WARN:
        return mk(
            "ink_red",
            F,
            round(m.ink_C, 1),
            "C*",
            rng,
            "印迹太淡（印泥不足），请蘸足印泥、用力均匀重新盖章",
            "The impression is too faint (too little ink); re-ink the seal and stamp firmly",
            **d,
        )
    if m.ink_C < T.SEAL_CHROMA_PASS:
        return mk(
            "ink_red",
            W,
            round(m.ink_C, 1),
            "C*",
            rng,
            "印迹偏淡，建议蘸足印泥后重新盖章",
            "The impression is rather faint; re-inking is recommended",
            **d,
        )
    return mk("ink_red", P, round(m.ink_C, 1), "C*", rng, "印泥为红色，颜色饱满", "Red ink, well saturated", **d)


def complete(m: SealMeasure) -> Check:
    rng = f"one impression; border coverage ≥ {T.COVERAGE_PASS} pass, ≥ {T.COVERAGE_WARN} warn"
    if not m.found:
        return mk("complete", F, 0, "", rng, "图片中没有找到印章", "No seal impression was found")
    if m.n_blobs >= 2:
        return mk(
            "complete",
            F,
            m.n_blobs,
            "impressions",
            rng,
            f"图片中有 {m.n_blobs} 个印迹，请只盖一次章",
            f"The image contains {m.n_blobs} impressions; stamp exactly once",
        )
    if m.touches_edge:
        return mk(
            "complete",
            F,
            round(m.coverage, 2),
            "coverage",
            rng,
            "印章被图片边缘截断，请拍摄/扫描完整的印章",
            "The seal is cut off by the image edge; capture the whole impression",
        )
    v = P if m.coverage >= T.COVERAGE_PASS else W if m.coverage >= T.COVERAGE_WARN else F
    zh = {
        P: "印迹完整",
        W: "印章边框有少量缺损，建议重新盖章",
        F: "印迹不完整（边框断缺），请蘸足印泥、在平整处用力均匀重新盖章",
    }[v]
    en = {
        P: "The impression is complete",
        W: "The seal border has small gaps; consider stamping again",
        F: "The impression is incomplete (broken border); re-ink and stamp firmly on a flat surface",
    }[v]
    return mk("complete", v, round(m.coverage, 3), "coverage", rng, zh, en)


def shape(m: SealMeasure, t: SealTemplate) -> Check:
    rng = f"template: {t.describe()}"
    d = {"circularity": round(m.circularity, 3), "fill": round(m.fill, 3), "aspect": round(m.aspect, 2)}
    if not m.found:
        return mk("shape", U, None, "", rng, "没有找到印章", "No seal found", **d)
    fam = {"square": "rect", "rect": "rect"}.get(m.shape, m.shape)
    ok = fam == t.family
    if ok:
        return mk(
            "shape",
            P,
            m.shape,
            "",
            rng,
            f"印章形状为{_SHAPE_ZH[m.shape]}，符合式样",
            f"Seal shape {m.shape} matches the template",
            **d,
        )
    return mk(
        "shape",
        F,
        m.shape,
        "",
        rng,
        f"印章形状为{_SHAPE_ZH[m.shape]}，与印鉴式样（{t.describe()}）不符，请按式样刻制",
        f"The seal is {m.shape}, but the template is {t.shape} {format_size(t)}; have it engraved to the template",
        **d,
    )


def measured_mm(m: SealMeasure, ppm: float) -> tuple[float, float]:
    return m.long_px / ppm, m.short_px / ppm


def size(m: SealMeasure, t: SealTemplate, ppm: float | None) -> Check:
    L0, S0 = t.dims()

    def tol(nominal: float, mm: float, pct: float) -> float:
        return max(mm, nominal * pct / 100.0)

    rng = f"{format_size(t)} ± max({t.tolerance_mm:g} mm, {t.tolerance_pct:g} %) pass; ± max({t.warn_mm:g} mm, {t.warn_pct:g} %) warn"
    if not m.found:
        return mk("size", U, None, "mm", rng, "没有找到印章", "No seal found")
    if ppm is None:
        return mk(
            "size", U, None, "mm", rng, "无法确定实际尺寸，未核对印章大小", "Scale unknown: seal size not verified"
        )
    Lm, Sm = measured_mm(m, ppm)
    errs = [(abs(Lm - L0), L0), (abs(Sm - S0), S0)]
    v = P
    for e, nominal in errs:
        if e > tol(nominal, t.warn_mm, t.warn_pct):
            v = F
        elif e > tol(nominal, t.tolerance_mm, t.tolerance_pct) and v is P:
            v = W
    shown = f"Ø{Lm:.1f}" if t.shape == "round" else f"{Lm:.1f}×{Sm:.1f}"
    value = round(Lm, 2) if t.shape == "round" else [round(Lm, 2), round(Sm, 2)]
    if v is P:
        return mk(
            "size",
            P,
            value,
            "mm",
            rng,
            f"印章尺寸 {shown} 毫米，符合式样",
            f"Seal size {shown} mm matches the template",
        )
    return mk(
        "size",
        v,
        value,
        "mm",
        rng,
        f"印章尺寸 {shown} 毫米，与印鉴式样（{format_size(t)}）{'略有' if v is W else ''}不符"
        + ("" if v is W else "，请按式样尺寸刻制印章"),
        f"Seal size {shown} mm {'differs slightly from' if v is W else 'does not match'} the template ({format_size(t)})",
    )


def rotation(m: SealMeasure, t: SealTemplate) -> Check:
    rng = f"|θ| ≤ {T.ROTATION_PASS:g}° pass; ≤ {T.ROTATION_WARN:g}° warn"
    if not m.found:
        return mk("rotation", U, None, "°", rng, "没有找到印章", "No seal found")
    if m.shape == "round":
        return replace(
            mk(
                "rotation",
                U,
                None,
                "°",
                rng,
                "圆形印章的方向需要识别印文才能判断，由人工核对",
                "A round seal's orientation can only be read from its text; a reviewer checks it",
            ),
            applicable=False,
        )
    a = m.angle_deg
    if t.family == "rect" and t.height_mm > t.width_mm:
        a = (a % 180.0) - 90.0  # the template's long side is vertical
    v = P if abs(a) <= T.ROTATION_PASS else W if abs(a) <= T.ROTATION_WARN else F
    zh = {P: "印章端正", W: "印章有些歪斜，建议盖正", F: "印章歪斜严重，请端正盖章"}[v]
    en = {
        P: "The seal is upright",
        W: "The seal is somewhat rotated; stamp it straight",
        F: "The seal is strongly rotated; stamp it straight",
    }[v]
    return mk("rotation", v, round(a, 1), "°", rng, zh, en)


def text(t: SealTemplate, st: SealText | None = None, whole: bool = True) -> Check:
    """The seal's characters against the expected text (the name, optionally + a suffix).

    ``whole``: the impression is complete and of the template's shape; a partial impression never
    PASSes on its text (what is missing may hold other characters)."""
    rng = f"seal characters = {t.text or 'member name'} (+ {' / '.join(t.suffixes)})"
    if not t.text:
        return replace(
            mk("text", U, None, "", rng, "未提供姓名，不核对印文", "No name given; seal text not compared"),
            applicable=False,
        )
    if st is None:
        return mk("text", U, None, "", rng, "没有找到印章，无法识别印文", "No seal found; the text was not read")
    j = judge_text(st, t.text, t.suffixes)
    r = j.reading
    d: dict[str, object] = {
        "expected": expected_texts(t.text, t.suffixes),
        "read": r.text if r else None,
        "layout": r.layout if r else None,
        "confidence": round(r.confidence, 3) if r else None,
        "char_confidence": [round(x, 3) for x in r.probs] if r else [],
        "font_hint": j.font_hint,
        "inverted": st.inverted,
        "readings": {x.layout: x.text for x in st.readings},
    }
    read = r.text if r else None
    if j.verdict == "pass" and not whole:
        return mk(
            "text",
            W,
            read,
            "",
            rng,
            f"印文读作“{read}”，但印迹不完整，由人工核对",
            f"The seal reads “{read}”, but the impression is incomplete; a reviewer checks it",
            **d,
        )
    if j.verdict == "pass":
        return mk("text", P, read, "", rng, f"印文“{read}”与姓名相符", f"The seal text “{read}” matches the name", **d)
    if j.verdict == "fail":
        return mk(
            "text",
            F,
            read,
            "",
            rng,
            f"印文读作“{read}”，与姓名“{t.text}”不符，请使用本人姓名的印章",
            f"The seal reads “{read}”, not the name “{t.text}”; use a seal with your own name",
            **d,
        )
    if j.verdict == "warn":
        return mk(
            "text",
            W,
            read,
            "",
            rng,
            f"印文识别不确定（读作“{read}”），由人工核对是否为“{t.text}”",
            f"The seal text is uncertain (read as “{read}”); a reviewer checks it is “{t.text}”",
            **d,
        )
    why = st.reason or "characters not legible"
    return mk(
        "text",
        U,
        read,
        "",
        rng,
        f"无法识别印文（{why}），由人工核对是否为“{t.text}”",
        f"The seal text could not be read ({why}); a reviewer checks it is “{t.text}”",
        **d,
    )


def judge(m: SealMeasure, t: SealTemplate, ppm: float | None, st: SealText | None = None) -> list[Check]:
    checks = [ink_red(m), complete(m), shape(m, t), size(m, t, ppm), rotation(m, t)]
    whole = checks[1].verdict in (P, W) and checks[2].verdict is P
    return [*checks, text(t, st if m.found else None, whole)]
