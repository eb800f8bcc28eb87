"""HTTP endpoints of idsvc.certificate.

PATCH /v1/members/<id>                          platform   member status (member_no, firm, category, standing)
POST  /v1/members/<id>/portrait                 platform   multipart photo → check, file when it passes → 201, else 422
GET   /v1/members/<id>/portrait                 platform, national, local (own association)
GET   /v1/members/<id>/portrait/cleaned.jpg     the certificate crop (current, or ?filing_id=)
GET   /v1/members/<id>/portrait/original        the untouched upload (current, or ?filing_id=)
GET   /v1/members/<id>/certificate              platform   status, gate reasons, current issue
GET   /v1/members/<id>/certificate.pdf | .png   platform   the certificate (409 with a precise code when gated)
POST  /v1/members/<id>/certificate/revoke       platform   revoke the current issue
GET   /v1/certificates/keys                     public     the verification key(s) as a JWK set
GET   /c/<token>                                public     the verification page
"""

from __future__ import annotations

import base64
import datetime as dt

from flask import Blueprint, Response, render_template, request

from idsvc.core.errors import FORBIDDEN, invalid_input
from idsvc.webkit.auth import current_principal, require_role
from idsvc.webkit.context import feature_service, services
from idsvc.webkit.http import json_body, json_response, no_store, string_field

from . import issue, members, portraits
from .service import CertificateService
from .signing import InvalidToken

bp = Blueprint("certificate", __name__, template_folder="templates")
SERVICE_KEY = "idsvc.certificate"
_CST = dt.timezone(dt.timedelta(hours=8))


def _service() -> CertificateService:
    return feature_service(SERVICE_KEY, CertificateService)


def _actor() -> str:
    p = current_principal()
    return p.actor if p is not None else "?"


@bp.patch("/v1/members/<member_id>")
@require_role("platform")
def patch_member(member_id: str) -> Response:
    changes = members.clean_changes(json_body())
    with services().db.session() as session:
        status, diff = members.set_status(session, member_id, changes, actor=_actor())
    return json_response({"member_id": member_id, **status.to_dict(), "changes": diff})


@bp.post("/v1/members/<member_id>/portrait")
@require_role("platform")
def file_portrait(member_id: str) -> Response:
    f = request.files.get("photo")
    if f is None:
        raise invalid_input(
            "photo", "is required (multipart/form-data field 'photo')", "必须以 multipart 字段 photo 上传"
        )
    data = f.read()
    svc = services()
    with svc.db.session() as session:
        filed = portraits.file_portrait(session, svc.blobs, member_id, data, actor=_actor())
        body = {"filing": portraits.filing_dict(filed.filing, request.path), "result": filed.result.to_dict()}
    return json_response(body, 201)


def _readable(session: object, member_id: str) -> None:
    member = members.get_member(session, member_id)  # type: ignore[arg-type]
    p = current_principal()
    if p is not None and p.role == "local" and p.association != member.association:
        raise FORBIDDEN({"problem": "other_association"})


@bp.get("/v1/members/<member_id>/portrait")
@require_role("platform", "national", "local")
def get_portrait(member_id: str) -> Response:
    svc = services()
    base = request.path
    with svc.db.session() as session:
        _readable(session, member_id)
        row = portraits.pick(session, member_id, request.args.get("filing_id"))
        body = {
            "filing": portraits.filing_dict(row, base),
            "result": row.result,
            "cleaned_jpg_base64": base64.b64encode(svc.blobs.get(row.cleaned_sha256)).decode(),
            "history": [portraits.filing_dict(r, base) for r in portraits.history(session, member_id)],
        }
    return json_response(body)


@bp.get("/v1/members/<member_id>/portrait/cleaned.jpg")
@require_role("platform", "national", "local")
def get_portrait_cleaned(member_id: str) -> Response:
    return _portrait_blob(member_id, cleaned=True)


@bp.get("/v1/members/<member_id>/portrait/original")
@require_role("platform", "national", "local")
def get_portrait_original(member_id: str) -> Response:
    return _portrait_blob(member_id, cleaned=False)


def _portrait_blob(member_id: str, cleaned: bool) -> Response:
    svc = services()
    with svc.db.session() as session:
        _readable(session, member_id)
        row = portraits.pick(session, member_id, request.args.get("filing_id"))
        digest = row.cleaned_sha256 if cleaned else row.original_sha256
        mime = (
            "image/jpeg"
            if cleaned or row.original_format in ("jpeg", "jpg", "mpo")
            else f"image/{row.original_format or 'octet-stream'}"
        )
    resp = Response(svc.blobs.get(digest), mimetype=mime)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["ETag"] = digest
    return resp


@bp.get("/v1/members/<member_id>/certificate")
@require_role("platform")
def certificate_status(member_id: str) -> Response:
    with services().db.session() as session:
        member = members.get_member(session, member_id)
        status = members.status_of(session, member_id)
        reasons = issue.blocking_reasons(session, member, status)
        cur = issue.current_issue(session, member_id)
        body = {
            "member_id": member_id,
            **status.to_dict(),
            "printable": not reasons,
            "reasons": [{"code": r.code, "message": r.message, "message_en": r.message_en} for r in reasons],
            "current": None
            if cur is None
            else {"certificate_no": cur.cert_no, "issued_at": cur.issued_at.isoformat(), "seq": cur.seq},
        }
    return json_response(body)


@bp.get("/v1/members/<member_id>/certificate.<any(pdf, png):fmt>")
@require_role("platform")
def certificate_file(member_id: str, fmt: str) -> Response:
    out = _service().render(member_id, fmt, actor=_actor())
    cert = out.issued.certificate
    resp = Response(out.data, mimetype=out.mimetype)
    resp.headers["Content-Disposition"] = f'inline; filename="certificate-{cert.cert_no}.{fmt}"'
    resp.headers["X-Certificate-No"] = cert.cert_no
    resp.headers["X-Certificate-Token"] = out.issued.token
    return no_store(resp)


@bp.post("/v1/members/<member_id>/certificate/revoke")
@require_role("platform")
def revoke(member_id: str) -> Response:
    body = json_body(optional=True)
    reason = string_field(body, "reason", required=False, default="revoked")
    svc = services()
    with svc.db.session() as session:
        row = issue.revoke(session, member_id, reason, actor=_actor(), now=svc.clock())
        out = {"member_id": member_id, "revoked": None if row is None else row.cert_no}
    return json_response(out)


@bp.get("/v1/certificates/keys")
def keys() -> Response:
    resp = json_response({"keys": [_service().signer.jwk()]})
    resp.headers["Cache-Control"] = "public, max-age=3600"
    return resp


_REASONS = {
    "superseded": "该证书已换发，请以新证书为准",
    "revoked": "该证书已被撤销",
    "inactive": "持证人当前状态不允许持有执业会员电子证书",
    "unknown": "未找到该证书的签发记录",
}


@bp.get("/c/<token>")
def verify_page(token: str) -> Response:
    svc = _service()
    now = dt.datetime.now(_CST).strftime("%Y-%m-%d %H:%M")
    ctx: dict[str, object] = {"association": svc.settings.association_name, "now": now, "statement": None}
    status = 200
    try:
        statement = svc.signer.verify(token)
    except InvalidToken:
        ctx["state"] = "invalid"
        status = 400
    else:
        with services().db.session() as session:
            v = issue.verification(session, statement)
            superseded_by = (
                v.certificate.superseded_by if (v.certificate is not None and v.state == "superseded") else None
            )
        ctx.update(
            state=v.state,
            reason=_REASONS.get(v.state, ""),
            statement=statement,
            name=issue.mask_name(statement.name),
            issued=statement.issued_at.astimezone(_CST).strftime("%Y-%m-%d %H:%M"),
            superseded_by=superseded_by,
        )
    resp = Response(render_template("certificate_verify.html", **ctx), status=status, mimetype="text/html")
    return no_store(resp)
