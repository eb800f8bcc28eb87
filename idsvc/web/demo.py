"""A desktop demo page (development only): shows a session's QR code and its live status."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, render_template, request

from idsvc.core.db import Member
from idsvc.qr.views import qr_sessions, session_body
from idsvc.webkit.context import services
from idsvc.webkit.http import json_response

bp = Blueprint("demo", __name__)

DEMO_MEMBER = {"member_id": "demo-member", "name": "演示会员", "id_number": "110101199003078515", "association": "11"}


@bp.get("/demo")
def demo_page() -> Any:
    return Response(render_template("demo.html"), mimetype="text/html")


@bp.post("/demo/sessions")
def demo_session() -> Any:
    """Create a session for the demo member, as the portal's back end would (no key in dev)."""
    svc = services()
    with svc.db.session() as db:
        if db.get(Member, DEMO_MEMBER["member_id"]) is None:
            db.add(Member(**DEMO_MEMBER))
    desktop = {"ip": request.remote_addr or "", "user_agent": request.headers.get("User-Agent", "")[:512]}
    s, poll_token = qr_sessions().create("demo", DEMO_MEMBER["member_id"], "login", desktop)
    return json_response(session_body(s, poll_token=poll_token, match_code=s.match_code), 201)
