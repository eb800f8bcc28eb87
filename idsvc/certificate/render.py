"""Render the certificate: one layout in millimetres, drawn to PDF (reportlab) and PNG (Pillow).

Page: A4 landscape, 297 × 210 mm — every office printer takes it, and at that size the portrait
(35 × 49 mm, the 二寸 photo), the seal and the signature are printed at their real size in mm.
Chinese text is set in WenQuanYi Zen Hei (Debian ``fonts-wqy-zenhei``), a TrueType font that
reportlab subset-embeds in the PDF, so the certificate reads the same on a machine without any CJK
font.  Plain Python, no Flask.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

FONT_PATH = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")
FONT_NAME = "WenQuanYiZenHei"
PAGE_MM = (297.0, 210.0)
PNG_DPI = 150
QR_MASK = 2
MM_PER_INCH = 25.4
PT_PER_MM = 72 / MM_PER_INCH

RED = (160, 24, 32)
GOLD = (176, 138, 60)
INK = (20, 20, 20)
GREY = (95, 95, 95)


class FontMissing(RuntimeError):
    """The CJK font is not installed (``apt-get install fonts-wqy-zenhei``)."""


@dataclass(frozen=True)
class Text:
    x: float  # mm from the left
    y: float  # baseline, mm from the top
    size: float  # pt
    text: str
    colour: tuple[int, int, int] = INK
    align: str = "left"  # "left" | "centre" | "right"


@dataclass(frozen=True)
class Picture:
    x: float
    y: float  # top edge, mm from the top
    w: float
    h: float
    data: bytes  # PNG (RGBA keeps its transparency) or JPEG


@dataclass(frozen=True)
class Frame:
    x: float
    y: float
    w: float
    h: float
    colour: tuple[int, int, int]
    width: float  # mm


@dataclass(frozen=True)
class QR:
    x: float
    y: float
    size: float
    matrix: tuple[tuple[bool, ...], ...]


@dataclass
class Layout:
    items: list[Any] = field(default_factory=list)


@dataclass(frozen=True)
class CertificateContent:
    association: str
    name: str
    gender: str  # 男 / 女 / "" when the number does not say
    birth_date: str  # 1990年03月07日
    id_number_masked: str
    member_no: str
    firm: str
    category: str  # 执业会员 …
    cert_no: str
    issued_at: dt.datetime
    portrait_jpeg: bytes
    seal_png: bytes
    seal_mm: tuple[float, float]
    signature_png: bytes
    signature_mm: tuple[float, float]
    verify_url: str


def person_from_id_number(number: str) -> tuple[str, str]:
    """(gender, birth date) from an 18- or 15-digit ID number (GB 11643: the 17th digit is odd for
    men; digits 7-14 the birth date, 7-12 as YYMMDD with 19 prefixed in the 15-digit form)."""
    if len(number) == 18 and number[:17].isdigit():
        birth, seq_digit = number[6:14], number[16]
    elif len(number) == 15 and number.isdigit():
        birth, seq_digit = "19" + number[6:12], number[14]
    else:
        return "", ""
    gender = "男" if int(seq_digit) % 2 == 1 else "女"
    return gender, f"{birth[:4]}年{birth[4:6]}月{birth[6:8]}日"


@functools.lru_cache(maxsize=256)
def qr_matrix(url: str) -> tuple[tuple[bool, ...], ...]:
    """The QR of ``url`` (error correction M, quiet zone 4).  The mask is fixed: choosing the best of
    eight costs ~80 ms in pure Python, and the tests decode the result with OpenCV."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, mask_pattern=QR_MASK)
    qr.add_data(url)
    qr.make(fit=True)
    return tuple(tuple(bool(c) for c in row) for row in qr.get_matrix())


def layout(c: CertificateContent) -> Layout:
    W, H = PAGE_MM
    items: list[Any] = [
        Frame(8, 8, W - 16, H - 16, RED, 1.6),
        Frame(11.5, 11.5, W - 23, H - 23, GOLD, 0.5),
        Text(W / 2, 30, 18, c.association, RED, "centre"),
        Text(W / 2, 46, 28, "执业会员电子证书", RED, "centre"),
    ]
    # Portrait, left, 35 × 49 mm.
    px, py = 26.0, 60.0
    items += [Frame(px - 0.6, py - 0.6, 36.2, 50.2, GOLD, 0.3), Picture(px, py, 35, 49, c.portrait_jpeg)]
    # Fields, middle.
    fields = [
        ("姓　　名", c.name),
        ("性　　别", c.gender or "—"),
        ("出生日期", c.birth_date or "—"),
        ("身份证号", c.id_number_masked),
        ("会员编号", c.member_no),
        ("执业机构", c.firm),
        ("会员类别", c.category),
        ("证书编号", c.cert_no),
        ("发证时间", c.issued_at.astimezone(_CST).strftime("%Y年%m月%d日 %H:%M")),
    ]
    fx, fy = 75.0, 66.0
    for i, (label, value) in enumerate(fields):
        y = fy + i * 9.2
        items.append(Text(fx, y, 11, label, GREY))
        for j, line in enumerate(_wrap(value, 50)):
            items.append(Text(fx + 26, y + j * 4.6, 12 if j == 0 else 10, line))
    # Verification QR, right.
    qx, qy, qs = 222.0, 60.0, 48.0
    items += [
        QR(qx, qy, qs, qr_matrix(c.verify_url)),
        Text(qx + qs / 2, qy + qs + 6, 10, "微信或手机相机扫码验证", GREY, "centre"),
        Text(qx + qs / 2, qy + qs + 11, 8, "证书是否有效以扫码查询结果为准", GREY, "centre"),
    ]
    # Signature and seal at their real size, bottom, each on a labelled baseline.
    base_y = 182.0
    sw, sh = c.signature_mm
    items += [
        Text(75, base_y + 6, 10, "本人签名", GREY),
        Picture(75 + 22, base_y - sh, sw, sh, c.signature_png),
    ]
    ew, eh = c.seal_mm
    seal_x = 170.0
    items += [
        Text(seal_x, base_y + 6, 10, "本人印章", GREY),
        Picture(seal_x + 22, base_y + 3 - eh, ew, eh, c.seal_png),
    ]
    items.append(Text(W - 24, H - 17, 8, f"{c.association} 颁发 · 证书编号 {c.cert_no}", GREY, "right"))
    return Layout(items)


_CST = dt.timezone(dt.timedelta(hours=8), "CST")


def _wrap(text: str, max_units: int) -> list[str]:
    """Split at ``max_units`` (a CJK character counts 2, ASCII 1); at most two lines."""
    if not text:
        return [""]
    lines, cur, units = [], "", 0
    for ch in text:
        u = 1 if ch.isascii() else 2
        if units + u > max_units and cur:
            lines.append(cur)
            cur, units = "", 0
        cur += ch
        units += u
    lines.append(cur)
    if len(lines) > 2:
        lines = [lines[0], lines[1][:-1] + "…"]
    return lines


# -- PDF ----------------------------------------------------------------------------------------


@functools.cache
def _register_pdf_font() -> str:
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if not FONT_PATH.exists():
        raise FontMissing(f"{FONT_PATH} is missing: install Debian's fonts-wqy-zenhei")
    # Binary image streams: reportlab's pure-Python ASCII85 encoder costs ~0.3 s per certificate.
    rl_config.useA85 = 0
    pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH), subfontIndex=0))
    return FONT_NAME


def to_pdf(lay: Layout, *, title: str = "执业会员电子证书") -> bytes:
    from reportlab.pdfgen import canvas

    font = _register_pdf_font()
    W, H = PAGE_MM
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=(W * PT_PER_MM, H * PT_PER_MM), invariant=True)
    pdf.setTitle(title)
    pdf.setCreator("idsvc")

    def pt(mm: float) -> float:
        return mm * PT_PER_MM

    for item in lay.items:
        if isinstance(item, Frame):
            pdf.setStrokeColorRGB(*(v / 255 for v in item.colour))
            pdf.setLineWidth(pt(item.width))
            pdf.rect(pt(item.x), pt(H - item.y - item.h), pt(item.w), pt(item.h), stroke=1, fill=0)
        elif isinstance(item, Text):
            pdf.setFillColorRGB(*(v / 255 for v in item.colour))
            pdf.setFont(font, item.size)
            x, y = pt(item.x), pt(H - item.y)
            if item.align == "centre":
                pdf.drawCentredString(x, y, item.text)
            elif item.align == "right":
                pdf.drawRightString(x, y, item.text)
            else:
                pdf.drawString(x, y, item.text)
        elif isinstance(item, Picture):
            pdf.drawImage(
                _pdf_image(item.data),
                pt(item.x),
                pt(H - item.y - item.h),
                pt(item.w),
                pt(item.h),
                mask="auto",
            )
        elif isinstance(item, QR):
            n = len(item.matrix)
            m = item.size / n
            pdf.setFillColorRGB(0, 0, 0)
            for r, row in enumerate(item.matrix):
                c = 0
                while c < n:
                    if not row[c]:
                        c += 1
                        continue
                    start = c
                    while c < n and row[c]:
                        c += 1
                    pdf.rect(
                        pt(item.x + start * m),
                        pt(H - item.y - (r + 1) * m),
                        pt((c - start) * m),
                        pt(m),
                        stroke=0,
                        fill=1,
                    )
    pdf.showPage()
    pdf.save()
    return buf.getvalue()


def warm_up() -> bool:
    """Parse the font for both renderers now (about a second for the 17 MB TTC), not in the first
    request.  False, with nothing raised, when the font is missing: the renderers then say so."""
    try:
        _register_pdf_font()
        _pil_font(12)
    except FontMissing:
        return False
    return True


# -- PNG ----------------------------------------------------------------------------------------


@functools.cache
def _pil_font(size_px: int) -> Any:
    from PIL import ImageFont

    if not FONT_PATH.exists():
        raise FontMissing(f"{FONT_PATH} is missing: install Debian's fonts-wqy-zenhei")
    return ImageFont.truetype(str(FONT_PATH), size_px, index=0)


def to_png(lay: Layout, dpi: int = PNG_DPI) -> bytes:
    from PIL import ImageDraw

    W, H = PAGE_MM
    k = dpi / MM_PER_INCH

    def px(mm: float) -> int:
        return round(mm * k)

    page = Image.new("RGB", (px(W), px(H)), (255, 253, 248))
    draw = ImageDraw.Draw(page)
    for item in lay.items:
        if isinstance(item, Frame):
            draw.rectangle(
                (px(item.x), px(item.y), px(item.x + item.w), px(item.y + item.h)),
                outline=item.colour,
                width=max(1, px(item.width)),
            )
        elif isinstance(item, Text):
            font = _pil_font(max(6, round(item.size / 72 * dpi)))
            anchor = {"left": "ls", "centre": "ms", "right": "rs"}[item.align]
            draw.text((px(item.x), px(item.y)), item.text, fill=item.colour, font=font, anchor=anchor)
        elif isinstance(item, Picture):
            im = _fitted(item.data, px(item.w), px(item.h))
            page.paste(im, (px(item.x), px(item.y)), im)
        elif isinstance(item, QR):
            n = len(item.matrix)
            # Whole pixels per module, so every decoder reads it.
            m = max(1, px(item.size) // n)
            x0 = px(item.x) + (px(item.size) - m * n) // 2
            y0 = px(item.y) + (px(item.size) - m * n) // 2
            draw.rectangle((x0, y0, x0 + m * n - 1, y0 + m * n - 1), fill=(255, 255, 255))
            for r, row in enumerate(item.matrix):
                for c, on in enumerate(row):
                    if on:
                        draw.rectangle(
                            (x0 + c * m, y0 + r * m, x0 + (c + 1) * m - 1, y0 + (r + 1) * m - 1), fill=(0, 0, 0)
                        )
    buf = io.BytesIO()
    page.save(buf, format="PNG", dpi=(dpi, dpi), compress_level=1)
    return buf.getvalue()


@functools.lru_cache(maxsize=64)
def _pdf_image(data: bytes) -> Any:
    """A reportlab ImageReader, cached: it keeps the decoded pixels and transparency mask."""
    from reportlab.lib.utils import ImageReader

    return ImageReader(io.BytesIO(data))


@functools.lru_cache(maxsize=64)
def _fitted(data: bytes, w: int, h: int) -> Image.Image:
    """An asset resized for the page; cached, since a member's assets change rarely."""
    with Image.open(io.BytesIO(data)) as src:
        return src.convert("RGBA").resize((w, h), Image.Resampling.BICUBIC, reducing_gap=2.0)


def printed_size_mm(
    png: bytes, fallback_mm: tuple[float, float] | None = None, box_mm: tuple[float, float] | None = None
) -> tuple[float, float]:
    """The real size of a cleaned asset: its pixels over its DPI (the documents feature writes
    300-dpi assets measured against a known scale), else ``fallback_mm`` scaled to its aspect,
    else fitted into ``box_mm``."""
    with Image.open(io.BytesIO(png)) as im:
        w, h = im.size
        dpi = im.info.get("dpi")
    if fallback_mm is not None:
        long_mm = max(fallback_mm)
        k = long_mm / max(w, h)
        return w * k, h * k
    if dpi and float(dpi[0]) > 0 and box_mm is None:
        return w / float(dpi[0]) * MM_PER_INCH, h / float(dpi[1] or dpi[0]) * MM_PER_INCH
    bw, bh = box_mm or (45.0, 18.0)
    k = min(bw / w, bh / h)
    return w * k, h * k
