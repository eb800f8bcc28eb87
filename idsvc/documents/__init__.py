"""idsvc.documents: signature and seal scan checks, the calibration sheet, and filing.

Public API (see ``api``)::

    check_signature(data: bytes, dpi: float | None = None, reference_png: bytes | None = None) -> Result
    check_seal(data: bytes, template: SealTemplate | None = None, dpi: float | None = None) -> Result
    sheet_pdf() -> bytes
"""

from __future__ import annotations

from .api import check_seal, check_signature, sheet_pdf
from .config import SealTemplate, seal_template_from_env
from .result import Check, Result, Verdict

__all__ = [
    "Check",
    "Result",
    "SealTemplate",
    "Verdict",
    "check_seal",
    "check_signature",
    "seal_template_from_env",
    "sheet_pdf",
]
