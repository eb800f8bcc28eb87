"""HTTP API of re-verifications (thin: parsing and shaping; the rules are in service.py)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from idsvc.core.errors import invalid_input
from idsvc.qr import limits, sessions
from idsvc.qr import views as qr_views
from idsvc.qr.limits import RateLimiter
from idsvc.qr.sessions import Session, iso
from idsvc.reverify import actions
from idsvc.reverify.service import Request, Reverifications
from idsvc.webkit.auth import current_principal, require_role
from idsvc.webkit.context import feature_service
from idsvc.webkit.http import json_body, json_response, string_field

bp = Blueprint("reverify", __name__)
EXTENSION = "idsvc.reverify"
ROLES = ("service", "platform")


def reverifications() -> Reverifications:
    return feature_service(EXTENSION, Reverifications)


def _digest(body: dict[str, Any]) -> str:
    digest = string_field(body, "payload_digest", max_len=64).lower()
    if not actions.is_digest(digest):
        raise invalid_input("payload_digest", "must be 64 hex digits (SHA-256)", "必须是 64 位十六进制 SHA-256")
    return digest


def _action(body: dict[str, Any]) -> str:
    action = string_field(body, "action", max_len=64)
    if not actions.is_action(action):
        raise invalid_input("action", "must look like transfer.submit", "格式应类似 transfer.submit")
    return action


def _bound(s: Session) -> dict[str, Any]:
    return {"action": s.action, "action_label": s.action_label, "payload_digest": s.payload_digest}


@bp.post("/v1/reverifications")
@require_role(*ROLES)
def create() -> Any:
    """A re-verification bound to the action and the form's digest → 201 like a session (or 200 under max_age)."""
    body = json_body()
    member_id = string_field(body, "member_id", max_len=64)
    action = _action(body)
    label = body.get("action_label")
    if label is None:
        label = actions.label(action)
        if label is None:
            raise invalid_input("action_label", "is required for an action not in the table", "未知的办理事项须提供")
    else:
        label = string_field(body, "action_label", max_len=actions.MAX_LABEL)
    digest = _digest(body)
    max_age = body.get("max_age", 0)
    if not isinstance(max_age, int) or isinstance(max_age, bool) or not 0 <= max_age <= 86400:
        raise invalid_input("max_age", "must be an integer 0-86400 (seconds)", "必须是 0-86400 的整数（秒）")
    notify = body.get("notify")
    if notify not in (None, "wechat"):
        raise invalid_input("notify", 'must be "wechat" or absent', '只能是 "wechat" 或不填')
    desktop = qr_views.desktop_of(body)
    principal = current_principal()
    assert principal is not None
    feature_service(limits.EXTENSION, RateLimiter).check("create", principal.key_id)
    rv = reverifications()
    req = Request(member_id, action, label, digest, max_age, desktop)
    s, poll_token = rv.create(principal, req)
    if poll_token is None:  # a recent verification of the same form (max_age)
        return json_response({**sessions.public_view(s), **_bound(s), "reused": True}, 200)
    extra: dict[str, Any] = {"poll_token": poll_token, "match_code": s.match_code, **_bound(s)}
    if notify == "wechat":
        extra["notified"] = rv.notify(s, qr_views.scan_url(s.session_id))
    return json_response(qr_views.session_body(s, **extra), 201)


@bp.post("/v1/reverifications/<session_id>/consume")
@require_role(*ROLES)
def consume(session_id: str) -> Any:
    """Use a verified re-verification once, for the action and digest the member approved."""
    body = json_body()
    action = _action(body)
    digest = _digest(body)
    principal = current_principal()
    assert principal is not None
    done = reverifications().consume(principal, session_id, action, digest)
    s = done.session
    return json_response(
        {
            "session_id": s.session_id,
            "member_id": s.member_id,
            "action": s.action,
            "action_label": s.action_label,
            "payload_digest": s.payload_digest,
            "verified_at": iso(s.verified_at),
            "consumed_at": iso(s.consumed_at),
            "assurance": s.assurance,
            "audit_seq": done.audit_seq,
            "verification_audit_seq": done.verification_audit_seq,
        }
    )


@bp.delete("/v1/members/<member_id>/wechat")
@require_role("platform")
def unbind(member_id: str) -> Any:
    """Unbind the member's WeChat (a new phone); ``{"reason"}`` is audited with the key's name."""
    body = json_body()
    reason = string_field(body, "reason", max_len=200)
    principal = current_principal()
    assert principal is not None
    cancelled = reverifications().unbind(principal.actor, member_id, reason)
    return json_response({"member_id": member_id, "wechat_bound": False, "cancelled_sessions": cancelled})
