"""A work budget for image decoding, checked from the file's headers before any pixel is decoded.

A small file can cost a decoder far more than its size suggests (issue #9, item 8):

* a progressive JPEG may repeat a scan hundreds of times; libjpeg re-reads every coefficient of the
  image for each scan (a 237 KB 7000×7000 grey JPEG with its last AC scan repeated 600 times takes
  ~13 s to decode), and it keeps all coefficients in memory (2 bytes each) until the last scan;
* a PNG inflates to width × height × channels × bytes-per-sample whatever its size on disk (a 306 KB
  8880² RGBA PNG is 315 MB of pixels).

So, like libjpeg-turbo's scan limit (``djpeg -maxscans``, ``TJPARAM_SCANLIMIT``) and ImageMagick's
resource policy (``area``, ``memory``), we bound what the headers promise: the number of scans, the
pixels × scans the entropy decoder visits, and the bytes the decoded samples (or a progressive
JPEG's coefficient buffer) occupy.  Over any bound → 422 ``image_too_complex``, in milliseconds.

:func:`check_decode_budget` is public (``idsvc.documents.check_decode_budget``) so every upload that
decodes an image — signature/seal checks, ID-change proofs — applies the same budget.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from idsvc.core.errors import define

IMAGE_TOO_COMPLEX = define(
    "image_too_complex",
    422,
    "图片的编码方式需要过多的解码工作（{reason}），请重新导出为普通的 JPEG 或 PNG",
    "Decoding this image would take too much work ({reason_en}); re-export it as a plain JPEG or PNG",
)

# [choice] A standard progressive script has 10 scans (colour) or 6 (grey); encoders that optimise
# scans produce at most a few dozen.  libjpeg-turbo suggests 500 as a limit for fuzzers; 100 keeps
# every real file and bounds the per-scan overhead.
MAX_JPEG_SCANS = 100
# [choice] Pixels × scans the entropy decoder walks: 1e9 is a 40 MP progressive JPEG with 25 scans,
# about half a second of decoding on one core; the 600-scan bomb above is 29e9.
MAX_PIXEL_SCANS = 1_000_000_000
# [choice] Decoded samples (PNG) or coefficient buffer (progressive JPEG): 200 MiB holds a 40 MP RGBA
# image (160 MB) or a 64 MP RGB photo (192 MB); the 8880² RGBA PNG (315 MB) is refused.
MAX_DECODED_BYTES = 200 * 1024 * 1024

_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
_PROGRESSIVE = {0xC2, 0xC6, 0xCA, 0xCE}
_NEXT_MARKER = re.compile(rb"\xff+([^\x00\xd0-\xd7\xff])")
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}


@dataclass(frozen=True)
class DecodeCost:
    """What decoding the file will cost, from its headers."""

    format: str  # "JPEG" | "PNG" | "other"
    width: int
    height: int
    scans: int  # JPEG scans (SOS segments); 1 for PNG
    progressive: bool
    decoded_bytes: int  # samples (PNG, baseline JPEG) or coefficients (progressive JPEG)

    @property
    def pixel_scans(self) -> int:
        return self.width * self.height * self.scans


def _jpeg_cost(data: bytes) -> DecodeCost | None:
    """Walk the JPEG's markers (skipping entropy-coded data) to find the frame header and count scans."""
    pos, n = 2, len(data)
    width = height = scans = 0
    progressive = False
    coeff_bytes = sample_bytes = 0
    while pos < n:
        m = _NEXT_MARKER.search(data, pos)
        if m is None:
            break
        marker = m.group(1)[0]
        pos = m.end()
        if marker == 0xD9:  # EOI
            break
        if marker == 0x01:  # TEM: no length
            continue
        if pos + 2 > n:
            break
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        if marker in _SOF and pos + 8 <= n and not width:
            height, width = struct.unpack(">HH", data[pos + 3 : pos + 7])
            ncomp = data[pos + 7]
            progressive = marker in _PROGRESSIVE
            comps = [data[pos + 8 + 3 * i + 1] for i in range(ncomp) if pos + 8 + 3 * i + 1 < n]
            if comps:
                hmax = max(1, max(c >> 4 for c in comps))
                vmax = max(1, max(c & 15 for c in comps))
                share = sum(max(1, c >> 4) * max(1, c & 15) / (hmax * vmax) for c in comps)
            else:
                share = 1.0
            coeff_bytes = int(width * height * share * 2)
            sample_bytes = width * height * max(1, ncomp)
        if marker == 0xDA:  # SOS: header, then entropy-coded data up to the next marker
            scans += 1
            if scans > MAX_JPEG_SCANS:
                break  # enough to refuse; do not walk the rest
        pos += length
    if not width:
        return None
    return DecodeCost("JPEG", width, height, max(1, scans), progressive, coeff_bytes if progressive else sample_bytes)


def _png_cost(data: bytes) -> DecodeCost | None:
    if len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height, depth, colour = struct.unpack(">IIBB", data[16:26])
    channels = _PNG_CHANNELS.get(colour, 4)
    return DecodeCost("PNG", width, height, 1, False, width * height * channels * max(1, depth // 8))


def decode_cost(data: bytes) -> DecodeCost:
    """The cost the headers announce; ``format == "other"`` (zero cost) for what is neither JPEG nor PNG."""
    cost = None
    if data[:3] == b"\xff\xd8\xff":
        cost = _jpeg_cost(data)
    elif data[:8] == b"\x89PNG\r\n\x1a\n":
        cost = _png_cost(data)
    return cost or DecodeCost("other", 0, 0, 0, False, 0)


def check_decode_budget(
    data: bytes,
    *,
    max_scans: int = MAX_JPEG_SCANS,
    max_pixel_scans: int = MAX_PIXEL_SCANS,
    max_decoded_bytes: int = MAX_DECODED_BYTES,
) -> DecodeCost:
    """Raise 422 ``image_too_complex`` when decoding ``data`` would exceed the budget; else its cost.

    Cheap (headers and marker walk only).  Files that are neither JPEG nor PNG, or whose headers
    cannot be read, pass: refusing those is the decoder's job.
    """
    cost = decode_cost(data)
    details = {
        "format": cost.format.lower(),
        "width": cost.width,
        "height": cost.height,
        "scans": cost.scans,
        "decoded_bytes": cost.decoded_bytes,
    }
    if cost.scans > max_scans:
        raise IMAGE_TOO_COMPLEX(
            {**details, "max_scans": max_scans},
            reason=f"JPEG 扫描段超过 {max_scans} 个",
            reason_en=f"more than {max_scans} JPEG scans",
        )
    if cost.pixel_scans > max_pixel_scans:
        raise IMAGE_TOO_COMPLEX(
            {**details, "max_pixel_scans": max_pixel_scans},
            reason=f"{cost.scans} 个扫描段 × {cost.width}×{cost.height} 像素",
            reason_en=f"{cost.scans} scans × {cost.width}×{cost.height} pixels",
        )
    if cost.decoded_bytes > max_decoded_bytes:
        mb = cost.decoded_bytes / 2**20
        raise IMAGE_TOO_COMPLEX(
            {**details, "max_decoded_bytes": max_decoded_bytes},
            reason=f"解码后约 {mb:.0f} MB",
            reason_en=f"about {mb:.0f} MB once decoded",
        )
    return cost
