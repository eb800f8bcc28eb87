"""Every threshold of the document checks, in one place, each with the figure behind it.

Figures marked [measured] come from the design notes on document checks (section 0 and 2; summarised in docs/documents.md) and were
re-checked by ``make eval-docs`` on tests/data/documents; [spec] means the association's wording
or a cited scheme; [choice] is our own engineering decision, explained.
"""

from __future__ import annotations

MM_PER_INCH = 25.4

# --- File (F1–F6) -----------------------------------------------------------------------------
# [choice] Hard refusal above 10 MB: the design's F2 FAIL bound; a phone JPEG of 12 MP is 3–6 MB.
MAX_FILE_BYTES = 10 * 1024 * 1024
FILE_BYTES_PASS = (20 * 1024, 2 * 1024 * 1024)  # [design F2] 20 KB – 2 MB
# [choice] Small files only WARN (design says FAIL < 10 KB): what a tiny file loses is resolution and
# sharpness, which stroke_width/sharpness measure directly; vote_easy8 (11 KB) is a compliant photo.
# [choice] Refuse images with more pixels than this *before* decoding them (decompression bombs);
# the design's F5 PASS bound is 40 MP, Pillow's own default bomb limit 89 MP.
MAX_PIXELS = 40_000_000
MAX_SIDE = 12_000  # [choice] no scanner/phone makes a side longer than this; 20000×20000 is refused
MIN_SIDE = 64  # [choice] below this there is nothing to measure
JPEG_QUALITY_PASS = 75  # [design F6] ≥ 75 PASS, 60–75 WARN
JPEG_QUALITY_WARN = 60

# --- Scale (F4 / P1) --------------------------------------------------------------------------
# [design 2.1] declared DPI is trusted only in 150–1200 and without camera EXIF Make/Model:
# every one of the 59 vote/ phone photos carries JFIF unit 0 or 72 dpi [measured].
DPI_TRUSTED = (150.0, 1200.0)
DPI_PASS = (300.0, 600.0)  # [design F4] 300–600 PASS, 200–299 WARN, < 150 not trusted
DPI_WARN_LOW = 200.0
ANALYSIS_DPI = 300.0  # resample scans to 300 dpi: every mm threshold below was measured there
ANALYSIS_LONG_SIDE = 1200  # [design 2] unknown scale: analyse at long side ≤ 1200 px (where px figures were measured)
SEAL_PLAUSIBLE_MM = (8.0, 40.0)  # [design P1] a personal seal measured outside this means the DPI lies
SIG_PLAUSIBLE_WIDTH_MM = (10.0, 120.0)

# --- Preprocessing (design section 2) ---------------------------------------------------------
INK_THRESHOLD = 0.72  # normalised grey below this is ink [design 2, step 5]
MIN_COMPONENT_PX = 30  # components smaller than this at analysis scale are noise
BLACK_BORDER_MEAN = 25  # rows/columns darker than this are a scanner/phone frame

# --- Signature --------------------------------------------------------------------------------
# S3 lighting: p95 − p5 of background L*. [measured] evenly lit 3.5–20, shadowed/gradient 35–78.
LIGHTING_PASS = 20.0
# [measured] compliant vote_med4 (a dark table wedge in frame) reaches 37.8 while the shadowed
# sheets we must reject measure 41.7–78.8 here; the design proposed 35, which would fail med4.
LIGHTING_WARN = 40.0
LIGHTING_SCAN_PASS = 8.0  # a flatbed scan is essentially uniform
# S4 paper: raw paper chroma C*. [measured] white under warm light 11–15, brown/yellow 27–29.
PAPER_C_PHOTO = (12.0, 20.0)  # PASS ≤ 12, WARN ≤ 20, FAIL above
PAPER_L_PHOTO_DARK = 40.0  # [measured] easy19/easy22/med10 below this are under-exposed → WARN
PAPER_L_SCAN = (85.0, 75.0)  # scan: PASS ≥ 85, WARN ≥ 75
PAPER_C_SCAN = (8.0, 15.0)
# S5 ruled lines. [measured] 0 false alarms on 46 unruled photos; ≥ 2 lines → ruled.
RULED_MIN_LINES = 2
RULED_MIN_COVERAGE = 0.30
RULED_ANGLE_RANGE = 15.0
# S6 ink colour on white-balanced ink cores. [measured] black C* 0–6.6 (≈10 on bluish photos at
# L*≈19); blue 11.4–24 at hue 296–302°; green 16–61 at 125–149°; pencil L* 57–61.
INK_CHROMA_WARN = 10.0
INK_CHROMA_FAIL = 15.0
INK_VERY_DARK_L = 25.0  # C* 10–15 but this dark → still black
INK_L_PASS = 45.0
INK_L_WARN = 55.0
BLUE_HUE = (230.0, 330.0)
GREEN_HUE = (90.0, 200.0)
INK_CORE_FRACTION = 0.40  # darkest 40 % of ink pixels = stroke cores
# S7 stroke width. [spec 1.4] 中粗 0.7 mm gel ≈ 0.40–0.50 mm line; standard 0.5 mm pen ≈ 0.30 mm.
STROKE_MM_PASS = (0.30, 1.0)
STROKE_MM_WARN = (0.20, 1.5)
STROKE_PX_PASS = 3.0  # S7b unknown scale: [design] below 2 px a stroke is not resolved
STROKE_PX_WARN = 2.0
# S8 sharpness: normalised edge sharpness. [measured] σ 0/1/1.5/2/3 px → 0.52/0.33/0.27/0.23/0.17;
# sharp photos 0.32–0.56, blurred 0.15–0.24.
SHARP_PASS = 0.30
SHARP_WARN = 0.25
SHARP_LOW_CONTRAST = 0.8  # above this the value means "contrast too low", not "very sharp"
# S9 contrast: median paper − ink grey (0–255), raw image.
CONTRAST_PASS = 80.0
CONTRAST_WARN = 50.0
# S10 skew: worst corner-angle deviation / edge rotation of a visible paper quadrilateral.
SKEW_PASS = 5.0
SKEW_WARN = 12.0
# S1 single signature
SIG_WIDTH_MM_PASS = (20.0, 90.0)
SIG_HEIGHT_MM_PASS = (5.0, 40.0)
SIG_WIDTH_MM_WARN = (10.0, 120.0)
SIG_HEIGHT_MM_WARN = (3.0, 60.0)
PAGE_MIN_COMPONENTS = 150  # [measured] enzoseason page: > 1000 components; signature photos < 120
PAGE_MIN_TEXT_LINES = 5
MAX_INK_FRACTION = 0.40  # [measured] the real photos ink ≤ 0.21 of their pixels (vote_med17); more is not a signature
SIG_CLUSTER_SIMILAR = 0.4  # a second cluster with ≥ 40 % of the largest one's ink → "two signatures?"
ASSET_MARGIN_MM = 3.0  # [design 2.13] crop to the ink box + 3 mm
NOMINAL_SIGNATURE_WIDTH_MM = 50.0  # unknown scale: assets are printed at this width [choice]

# --- Seal -------------------------------------------------------------------------------------
# P2 red ink on the flat-fielded image. [measured] synthetic red C* ≈ 50–58 at hue ≈ 25°; blue 288°.
RED_HUE = (330.0, 50.0)  # wraps through 0°
SEAL_MASK_CHROMA = 15.0
SEAL_A_MIN = 15.0
SEAL_CHROMA_PASS = 30.0
SEAL_CHROMA_WARN = 20.0
# P3 completeness: border-band coverage. [measured] good 1.00, faint/broken 0.60.
COVERAGE_PASS = 0.90
COVERAGE_WARN = 0.75
BAND_MM = 0.6
BAND_INSET_MM = 0.5
# P4 shape. [measured] round circ 0.998 / fill 0.79; square circ 0.79 / fill 0.999; rect fill 0.997.
ROUND_MIN_CIRCULARITY = 0.90
RECT_MIN_FILL = 0.90
SQUARE_MAX_ASPECT = 1.10
# P6 rotation
ROTATION_PASS = 5.0
ROTATION_WARN = 15.0
SEAL_ASSET_MARGIN_MM = 1.5
SEAL_RGB = (200, 20, 30)  # normalised seal red of the cleaned asset [choice]
