"""The printable A4 calibration sheet: ArUco markers around a signature box and a seal box.

A phone photo of the filled sheet is rectified with the markers (see ``rectify``), which gives
exact millimetres and removes perspective.  The layout below is the single source of truth for both
the PDF and the rectifier; change ``SHEET_VERSION`` whenever it changes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import cv2
import numpy as np

SHEET_VERSION = 1
PAGE_MM = (210.0, 297.0)
ARUCO_DICT = cv2.aruco.DICT_4X4_50
MARKER_MM = 16.0  # 6×6 modules of 2.67 mm: detected down to ~3 px/mm (a 1000 px wide photo of the page)
MARKER_GAP_MM = 3.0  # between a box corner and its marker


@dataclass(frozen=True)
class Box:
    name: str
    x: float  # mm from the page's top-left corner
    y: float
    w: float
    h: float
    marker_ids: tuple[int, int, int, int]  # TL, TR, BR, BL

    def marker_origins(self) -> dict[int, tuple[float, float]]:
        """Top-left corner (mm) of each marker: diagonally outside each box corner."""
        s, g = MARKER_MM, MARKER_GAP_MM
        tl, tr, br, bl = self.marker_ids
        return {
            tl: (self.x - g - s, self.y - g - s),
            tr: (self.x + self.w + g, self.y - g - s),
            br: (self.x + self.w + g, self.y + self.h + g),
            bl: (self.x - g - s, self.y + self.h + g),
        }


SIGNATURE_BOX = Box("signature", 45.0, 62.0, 120.0, 45.0, (0, 1, 2, 3))
SEAL_BOX = Box("seal", 80.0, 152.0, 50.0, 50.0, (4, 5, 6, 7))
BOXES = {"signature": SIGNATURE_BOX, "seal": SEAL_BOX}


def marker_corners_mm() -> dict[int, np.ndarray]:
    """id → 4×2 corners (TL, TR, BR, BL, ArUco's order) in page millimetres."""
    out: dict[int, np.ndarray] = {}
    for box in BOXES.values():
        for mid, (x, y) in box.marker_origins().items():
            s = MARKER_MM
            out[mid] = np.array([[x, y], [x + s, y], [x + s, y + s], [x, y + s]], dtype=np.float64)
    return out


def _marker_bits(mid: int) -> np.ndarray:
    d = cv2.aruco.getPredefinedDictionary(ARUCO_DICT)
    return cv2.aruco.generateImageMarker(d, mid, 6) < 128  # True = black module


INSTRUCTIONS = [
    "使用说明：",
    "1. 用 A4 纸按 100% 实际大小打印本页（不要选“适合页面/缩放”），八个黑白方块必须完整清晰。",
    "2. 用黑色中粗签字笔（0.5–0.7 毫米）在上方框内签名一次，签名不要碰到框线。",
    "3. 在下方框内盖一次本人印章，印泥均匀、盖实，不要压到框线。",
    "4. 把纸平放在桌面上，在明亮均匀的光线下（不开闪光灯，避免手和手机的阴影）正对纸面拍照，",
    "    八个方块都要完整拍进画面。",
    "5. 上传原始照片，不要截图、裁剪或美颜。系统会根据方块自动校正并按毫米核对笔画粗细与印章尺寸。",
]


def render_pdf() -> bytes:
    """The sheet as a one-page A4 PDF (vector markers; Chinese via reportlab's built-in STSong-Light CID font)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    try:
        pdfmetrics.getFont("STSong-Light")
    except KeyError:
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, pageCompression=1)
    c.setTitle("签名与印章校准纸 / Signature and seal calibration sheet")
    c.setAuthor("idsvc")
    page_h = A4[1]

    def X(v: float) -> float:
        return float(v * mm)

    def Y(v: float) -> float:  # our layout is top-down; PDF is bottom-up
        return float(page_h - v * mm)

    c.setFont("STSong-Light", 18)
    c.drawCentredString(X(105), Y(22), "签名与印章校准纸")
    c.setFont("Helvetica", 9)
    c.drawCentredString(X(105), Y(28), f"Signature and seal calibration sheet  v{SHEET_VERSION}  - print at 100% on A4")

    for box, label in ((SIGNATURE_BOX, "签名区（黑色中粗笔）"), (SEAL_BOX, "印章区（盖章一次）")):
        c.setStrokeColorRGB(0.55, 0.55, 0.55)
        c.setLineWidth(0.4)
        c.rect(X(box.x), Y(box.y + box.h), X(box.w), X(box.h), stroke=1, fill=0)
        c.setFillColorRGB(0.35, 0.35, 0.35)
        c.setFont("STSong-Light", 10)
        c.drawString(X(box.x), Y(box.y - MARKER_GAP_MM - MARKER_MM - 4), label)
        c.setFillColorRGB(0, 0, 0)
        for mid, (mx, my) in box.marker_origins().items():
            bits = _marker_bits(mid)
            m = MARKER_MM / 6.0
            for r in range(6):
                for col in range(6):
                    if bits[r, col]:
                        c.rect(X(mx + col * m), Y(my + (r + 1) * m), X(m) + 0.05, X(m) + 0.05, stroke=0, fill=1)

    # 50 mm ruler: lets a person check the print scale by eye.
    c.setLineWidth(0.6)
    c.line(X(20), Y(232), X(70), Y(232))
    for i in range(6):
        c.line(X(20 + 10 * i), Y(232), X(20 + 10 * i), Y(234.5 if i % 5 else 236))
    c.setFont("STSong-Light", 8)
    c.drawString(X(20), Y(240), "打印后此线应为 50 毫米")

    c.setFont("STSong-Light", 9.5)
    y = 250.0
    for line in INSTRUCTIONS:
        c.drawString(X(20), Y(y), line)
        y += 5.2
    c.showPage()
    c.save()
    return buf.getvalue()
