"""HTTP endpoints of idsvc.documents.

POST /v1/documents/signature/check          platform   multipart image [, dpi]
POST /v1/documents/seal/check               platform   multipart image [, dpi, shape, size_mm, text]
POST /v1/members/<id>/signature | /seal     platform   check, file when nothing FAILs → 201, else 422
GET  /v1/members/<id>/signature | /seal     platform, national, local (own association)
GET  /v1/members/<id>/<kind>/cleaned.png    the cleaned 300-dpi PNG (current, or ?filing_id=)
GET  /v1/members/<id>/<kind>/original       the untouched upload (current, or ?filing_id=)
GET  /v1/documents/sheet.pdf                public: the printable calibration sheet
"""

from __future__ import annotations

import base64
import functools
import re
from typing import Any

from flask import Blueprint, Response, request

from idsvc.core.errors import MEMBER_NOT_FOUND, invalid_input
from idsvc.webkit.auth import current_principal, require_role
from idsvc.webkit.context import services
from idsvc.webkit.http import json_response

from . import filing
from .api import check_seal, check_signature, sheet_pdf
from .config import SealTemplate
from .errors import DOCUMENT_KIND_NOT_FOUND, FILING_NOT_FOUND
from .models import DocumentFiling

_FILING_ID = re.compile(r"[0-9]{1,18}")  # ASCII digits only ("²".isdigit() is True); fits a BIGINT

bp = Blueprint("documents", __name__)


def _image() -> bytes:
    f = request.files.get("image")
    if f is None:
        raise invalid_input(
            "image", "is required (multipart/form-data field 'image')", "必须以 multipart 字段 image 上传"
        )
    return bytes(f.read())


def _dpi() -> float | None:
    raw = (request.form.get("dpi") or "").strip()
    if not raw:
        return None
    try:
        dpi = float(raw)
    except ValueError:
        raise invalid_input("dpi", "must be a number", "必须是数字") from None
    if not (50 <= dpi <= 2400):
        raise invalid_input("dpi", "must be between 50 and 2400", "应在 50–2400 之间")
    return dpi


def _template(name: str | None = None) -> SealTemplate:
    """The configured template (read once at start-up) with this request's overrides; the text to
    compare is the form's ``text`` or, when filing, the member's name."""
    t = SealTemplate.from_settings(services().settings.seal)
    return t.with_overrides(request.form.get("shape"), request.form.get("size_mm"), request.form.get("text") or name)


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return json_response(body, status)


@bp.post("/v1/documents/signature/check")
@require_role("platform")
def signature_check() -> Response:
    return _json(check_signature(_image(), dpi=_dpi()).to_dict())


@bp.post("/v1/documents/seal/check")
@require_role("platform")
def seal_check() -> Response:
    return _json(check_seal(_image(), _template(), dpi=_dpi()).to_dict())


@functools.lru_cache(maxsize=1)
def _sheet() -> bytes:
    return sheet_pdf()


@bp.get("/v1/documents/sheet.pdf")
def sheet() -> Response:
    resp = Response(_sheet(), mimetype="application/pdf")
    resp.headers["Content-Disposition"] = 'inline; filename="idsvc-calibration-sheet.pdf"'
    resp.headers["Cache-Control"] = "public, max-age=86400"
    return resp


def _kind(kind: str) -> str:
    if kind not in filing.KINDS:
        raise DOCUMENT_KIND_NOT_FOUND()
    return kind


@bp.post("/v1/members/<member_id>/<any(signature, seal):kind>")
@require_role("platform")
def file_document(member_id: str, kind: str) -> Response:
    kind = _kind(kind)
    data = _image()
    dpi = _dpi()
    principal = current_principal()
    svc = services()
    filed = filing.file_document(
        svc.db,
        svc.blobs,
        member_id,
        kind,
        data,
        actor=principal.actor if principal else "?",
        dpi=dpi,
        template=_template if kind == "seal" else None,
    )
    body = {"filing": filing.filing_dict(filed.filing, request.path), "result": filed.result.to_dict()}
    return _json(body, 201)


def _may_read(member_association: str) -> None:
    """A local association's key sees its own members only; another's answer 404 like a nonexistent
    member (as ID changes do), so a key cannot learn which member ids exist elsewhere."""
    p = current_principal()
    if p is not None and p.role == "local" and p.association != member_association:
        raise MEMBER_NOT_FOUND()


def _pick(session: Any, member_id: str, kind: str) -> DocumentFiling:
    fid = request.args.get("filing_id")
    if fid is not None:
        if not _FILING_ID.fullmatch(fid):
            raise invalid_input("filing_id", "must be a positive integer (ASCII digits)", "必须是正整数（ASCII 数字）")
        row: DocumentFiling | None = session.get(DocumentFiling, int(fid))
        if row is None or row.member_id != member_id or row.kind != kind:
            raise FILING_NOT_FOUND()
        return row
    row = filing.current(session, member_id, kind)
    if row is None:
        raise FILING_NOT_FOUND()
    return row


def _readable_filing(session: Any, member_id: str, kind: str) -> DocumentFiling:
    """The requested filing of a member the caller may read (404 otherwise)."""
    kind = _kind(kind)
    member = filing.get_member(session, member_id)
    _may_read(member.association)
    return _pick(session, member_id, kind)


@bp.get("/v1/members/<member_id>/<any(signature, seal):kind>")
@require_role("platform", "national", "local")
def get_document(member_id: str, kind: str) -> Response:
    svc = services()
    with svc.db.session() as session:
        row = _readable_filing(session, member_id, kind)
        base = request.path
        body = {
            "filing": filing.filing_dict(row, base),
            "result": row.result,
            "cleaned_png_base64": base64.b64encode(svc.blobs.get(row.cleaned_sha256)).decode(),
            "history": [filing.filing_dict(r, base) for r in filing.history(session, member_id, kind)],
        }
    return _json(body)


@bp.get("/v1/members/<member_id>/<any(signature, seal):kind>/cleaned.png")
@require_role("platform", "national", "local")
def get_cleaned(member_id: str, kind: str) -> Response:
    return _blob(member_id, kind, cleaned=True)


@bp.get("/v1/members/<member_id>/<any(signature, seal):kind>/original")
@require_role("platform", "national", "local")
def get_original(member_id: str, kind: str) -> Response:
    return _blob(member_id, kind, cleaned=False)


def _blob(member_id: str, kind: str, cleaned: bool) -> Response:
    svc = services()
    with svc.db.session() as session:
        row = _readable_filing(session, member_id, kind)
        digest = row.cleaned_sha256 if cleaned else row.original_sha256
        mime = "image/png" if cleaned or row.original_format == "png" else "image/jpeg"
        ext = "png" if mime == "image/png" else "jpg"
        name = f"{kind}-{row.id}-{'cleaned' if cleaned else 'original'}.{ext}"
    resp = Response(svc.blobs.get(digest), mimetype=mime)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["ETag"] = digest
    # A download, never rendered in our origin; the name is built from ids only (no user text).
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
