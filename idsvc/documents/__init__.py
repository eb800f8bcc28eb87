"""idsvc.documents: signature and seal scan checks, the calibration sheet, and filing.

Public API (see ``api``)::

    check_signature(data: bytes, dpi: float | None = None, reference_png: bytes | None = None) -> Result
    check_seal(data: bytes, template: SealTemplate | None = None, dpi: float | None = None) -> Result
    sheet_pdf() -> bytes
    check_decode_budget(data: bytes) -> DecodeCost   # 422 image_too_complex before any decode (any upload)
"""

from __future__ import annotations

from idsvc.core.imagebudget import DecodeCost, check_decode_budget

from .api import check_seal, check_signature, sheet_pdf
from .config import SealTemplate
from .result import Check, Result, Verdict

__all__ = [
    "Check",
    "DecodeCost",
    "Result",
    "SealTemplate",
    "Verdict",
    "check_decode_budget",
    "check_seal",
    "check_signature",
    "sheet_pdf",
]
