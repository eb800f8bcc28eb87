"""Proof documents: the type comes from the bytes, never from the client's filename or header.

A proof is the police (公安) certificate of the number change: a PDF, or a photo/scan as JPEG or
PNG.  :func:`inspect` sniffs the magic bytes, then checks the file really is what it claims
(images are fully decoded with Pillow; PDFs need their header and end-of-file marker), so a
reviewer is never handed a truncated scan or a renamed executable.
"""

from __future__ import annotations

import io
import re
import warnings
from dataclasses import dataclass

from PIL import Image

from idsvc.core.errors import IdsvcError, payload_too_large
from idsvc.core.imagebudget import check_decode_budget
from idsvc.idchange.errors import CORRUPT_PROOF, EMPTY_PROOF, UNSUPPORTED_PROOF_TYPE

MAX_PROOF_BYTES = 10 * 1024 * 1024
# A 10 MB JPEG of a phone photo is ~12-50 MP; 80 MP leaves room and stops decompression bombs
# (a tiny PNG that inflates to gigabytes) before Pillow allocates the pixels.
MAX_PROOF_PIXELS = 80_000_000
# PDF 1.7 §7.5.5: "%%EOF" is on the last line; writers may append a few bytes of padding after it.
PDF_TAIL_WINDOW = 1024

_PDF_HEADER = re.compile(rb"^%PDF-[12]\.\d")
_MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


@dataclass(frozen=True)
class ProofInfo:
    mime: str
    size: int
    width: int | None = None
    height: int | None = None

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime]


def unsupported_type() -> IdsvcError:
    return UNSUPPORTED_PROOF_TYPE({"allowed": sorted(EXTENSIONS)})


def corrupt(why: str) -> IdsvcError:
    return CORRUPT_PROOF(why=why)


def sniff(data: bytes) -> str | None:
    """The MIME type the leading bytes announce, or None."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    return None


def _check_pdf(data: bytes) -> None:
    if not _PDF_HEADER.match(data):
        raise corrupt("no PDF version header")
    if b"%%EOF" not in data[-PDF_TAIL_WINDOW:]:
        raise corrupt("no %%EOF trailer (truncated PDF)")
    if b"startxref" not in data[-PDF_TAIL_WINDOW - 64 :]:
        raise corrupt("no startxref (not a complete PDF)")


def _check_image(data: bytes, mime: str) -> tuple[int, int]:
    # The pixel cap bounds memory, not CPU: a small progressive JPEG with hundreds of repeated
    # scans would take seconds to decode.  The documents feature's budget reads only headers and
    # refuses such files with 422 image_too_complex before any decode.
    check_decode_budget(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                if probe.format != _PIL_FORMATS[mime]:
                    raise corrupt(f"announced {mime} but decodes as {probe.format}")
                width, height = probe.size
                if width * height > MAX_PROOF_PIXELS:
                    raise corrupt(f"{width}x{height} pixels is more than {MAX_PROOF_PIXELS}")
                probe.verify()  # structure and chunk CRCs
            with Image.open(io.BytesIO(data)) as image:
                image.load()  # every pixel: catches truncated scans that verify() lets through
        except IdsvcError:
            raise
        except (OSError, SyntaxError, ValueError, Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise corrupt("the image cannot be decoded") from None
    return width, height


def inspect(data: bytes) -> ProofInfo:
    """Sniff and check a proof; raises 413 (too big), 415 (wrong type) or 400 (empty or corrupt)."""
    if not data:
        raise EMPTY_PROOF({"field": "proof"})
    if len(data) > MAX_PROOF_BYTES:
        raise payload_too_large(MAX_PROOF_BYTES)
    mime = sniff(data)
    if mime is None:
        raise unsupported_type()
    if mime == "application/pdf":
        _check_pdf(data)
        return ProofInfo(mime, len(data))
    width, height = _check_image(data, mime)
    return ProofInfo(mime, len(data), width, height)
