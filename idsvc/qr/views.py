"""Back-end API of verification sessions: create, poll (long-poll), QR images, cancel."""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from flask import Blueprint, Response, current_app, request, url_for
from itsdangerous import BadSignature, URLSafeSerializer

from idsvc.core.errors import WRONG_ROLE, IdsvcError, invalid_input, store_unavailable
from idsvc.qr import errors, limits, render, service, sessions
from idsvc.qr.errors import SQL_UNAVAILABLE
from idsvc.qr.limits import RateLimiter
from idsvc.qr.service import MAX_WAIT, QrSessions
from idsvc.qr.tokens import make_scan_token
from idsvc.webkit.auth import bearer_token, current_principal, require_role
from idsvc.webkit.context import feature_service, services
from idsvc.webkit.http import (
    int_arg,
    json_body,
    json_response,
    no_store,
    string_field,
)

bp = Blueprint("qr", __name__)
log = logging.getLogger(__name__)

IMAGE_SALT = "idsvc.qr.image"


def qr_sessions() -> QrSessions:
    """The app's :class:`QrSessions` (built once by ``feature.register``)."""
    return feature_service(service.EXTENSION, QrSessions)


def _optional_text(body: dict[str, Any], name: str, max_len: int) -> str | None:
    """An optional string field: absent or null → None; present, it must be a non-empty string."""
    if body.get(name) is None:
        return None
    return string_field(body, name, max_len=max_len)


def scan_url(sid: str) -> str:
    svc = services()
    return f"{svc.settings.public_url}/m/{make_scan_token(str(svc.settings.secret_key), sid)}"


def _image_sig(sid: str) -> str:
    return URLSafeSerializer(current_app.secret_key, salt=IMAGE_SALT).dumps(sid)  # type: ignore[arg-type]


def desktop_of(body: dict[str, Any]) -> dict[str, str]:
    """The optional ``desktop`` object of a create body (the reverify feature reads it too)."""
    desktop = body.get("desktop", {})
    if not isinstance(desktop, dict):
        raise invalid_input("desktop", "must be an object", "必须是对象")
    ip = string_field(desktop, "ip", max_len=64, required=False)
    if ip:
        try:
            ip = str(ipaddress.ip_address(ip))
        except ValueError:
            raise invalid_input("desktop.ip", "is not an IP address", "不是有效的 IP 地址") from None
    return {"ip": ip, "user_agent": string_field(desktop, "user_agent", max_len=512, required=False)}


def session_body(s: sessions.Session, **extra: Any) -> dict[str, Any]:
    sid = s.session_id
    sig = _image_sig(sid)
    base = services().settings.public_url
    return {
        **sessions.public_view(s),
        "scan_url": scan_url(sid),
        "qr_png_url": f"{base}{url_for('qr.qr_png', session_id=sid)}?sig={sig}",
        "qr_svg_url": f"{base}{url_for('qr.qr_svg', session_id=sid)}?sig={sig}",
        **extra,
    }


@bp.post("/v1/sessions")
@require_role("platform")
def create_session() -> Any:
    """Create a verification session for a member → 201 with poll token, scan URL, QR URLs, match code."""
    body = json_body()
    member_id = string_field(body, "member_id", max_len=64)
    purpose = string_field(body, "purpose", max_len=32, required=False, default="login")
    if purpose not in sessions.PURPOSES:
        raise invalid_input(
            "purpose", f"must be one of {', '.join(sessions.PURPOSES)}", f"必须是 {', '.join(sessions.PURPOSES)} 之一"
        )
    desktop = desktop_of(body)
    principal = current_principal()
    assert principal is not None
    feature_service(limits.EXTENSION, RateLimiter).check("create", principal.key_id)
    s, poll_token = qr_sessions().create(principal.actor, member_id, purpose, desktop)
    return json_response(session_body(s, poll_token=poll_token, match_code=s.match_code), 201)


def _authorised_session(session_id: str) -> sessions.Session:
    """The session, if the caller holds its poll token or a platform key (403 otherwise)."""
    s = qr_sessions().get(session_id)
    _authorise(s)
    return s


def _authorise(s: sessions.Session) -> None:
    token = bearer_token()
    if token and token.startswith("idsvc_"):
        principal = current_principal()
        if principal is None or principal.role != "platform":
            raise WRONG_ROLE(roles="platform")
        return
    qr_sessions().check_poll_token(s, token)


POLLS_PER_SESSION = 2
POLLS_PER_ADDRESS = 500


@contextmanager
def _fair_share(session_id: str, ttl: int) -> Iterator[None]:
    """A waiting poll or stream holds a share for the block, or the request gets 429.

    A desktop needs one (two across a page reload); one address — an office NAT, or a proxy that
    did not say who is behind it — gets many, not all.
    """
    store = services().store
    shares = {
        store.key("qr", "waiting", session_id): POLLS_PER_SESSION,
        store.key("qr", "waiting-ip", request.remote_addr or "-"): POLLS_PER_ADDRESS,
    }
    with store.slots(shares, ttl) as admitted:
        if not admitted:
            raise errors.TOO_MANY_WAITERS({"retry_after": 1})
        yield


@bp.get("/v1/sessions/<session_id>")
def get_session(session_id: str) -> Any:
    """Session status for the desktop; ``?wait=N&version=V`` long-polls up to N ≤ MAX_WAIT s."""
    wait = int_arg("wait", 0, MAX_WAIT)
    version = int_arg("version", 0, 2**31)
    with qr_sessions().watching(session_id) as watch:
        s = watch.session
        _authorise(s)
        if wait:
            with _fair_share(session_id, MAX_WAIT + 10):
                s = watch.until_changed(s.version if version is None else version, wait)
    return json_response(sessions.public_view(s))


#: A stream ends after this long; the client reconnects with the last version it saw.
STREAM_MAX_S = 600
#: A comment line this often keeps proxies and NATs from closing an idle stream.
KEEPALIVE_S = 20


@bp.get("/v1/sessions/<session_id>/events")
def session_events(session_id: str) -> Any:
    """Session changes as server-sent events: the cheapest way for a desktop to wait.

    A long-poll costs a request (parsing, auth, Redis reads, a log line) every ``wait`` seconds
    per desktop; a stream costs a few bytes of keepalive instead, which is what lets one instance
    hold thousands of waiting desktops on a small share of a core.  Each change is one ``session``
    event with the same body as ``GET /v1/sessions/{id}``; the stream ends when the session is
    final, after ``STREAM_MAX_S``, or when the store fails (the client then reconnects or falls
    back to long-polling).  ``?version=V``: the first event is sent only once the version differs.
    """
    version = int_arg("version", 0, 2**31)
    held = ExitStack()
    try:
        watch = held.enter_context(qr_sessions().watching(session_id))
        _authorise(watch.session)
        held.enter_context(_fair_share(session_id, STREAM_MAX_S + 60))
    except BaseException:
        held.close()
        raise
    response = Response(_session_events(watch, version), mimetype="text/event-stream")
    # Whether or not the body was ever read: the slots and the listener are given back on close.
    response.call_on_close(held.close)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass events on as they come
    return response


def _session_events(watch: service.Watch, version: int | None) -> Iterator[bytes]:
    s = watch.session
    ends = time.monotonic() + STREAM_MAX_S
    # Something at once: servers send the headers with the first chunk, and a client waiting for
    # them cannot tell a stream that is open from one that is stuck.  `retry`: reconnect after 2 s.
    yield b"retry: 2000\n\n"
    try:
        if s.version != version:
            yield _event(s)
        while not s.is_final and (left := ends - time.monotonic()) > 0:
            seen = s.version
            s = watch.until_changed(seen, min(KEEPALIVE_S, left))
            yield _event(s) if s.version != seen else b": keepalive\n\n"
    except IdsvcError as exc:  # the store went away mid-stream: say so and end
        log.warning("session stream ended: %s", exc.code)
        yield b"event: error\ndata: " + json.dumps({"code": exc.code}).encode() + b"\n\n"


def _event(s: sessions.Session) -> bytes:
    data = json.dumps(sessions.public_view(s), ensure_ascii=False, separators=(",", ":"))
    return f"event: session\nid: {s.version}\ndata: {data}\n\n".encode()


@bp.delete("/v1/sessions/<session_id>")
def cancel_session(session_id: str) -> Any:
    """Cancel a session (poll token or platform key) → its record with status ``cancelled``."""
    _authorised_session(session_id)
    principal = current_principal(optional=True)
    actor = principal.actor if principal else "desktop"
    return json_response(sessions.public_view(qr_sessions().cancel(session_id, actor)))


@bp.post("/v1/sessions/<session_id>/consume")
@require_role("platform")
def consume_session(session_id: str) -> Any:
    """Use a ``verified`` session's result exactly once (optionally checking member and purpose)."""
    body = json_body(optional=True)
    member_id = _optional_text(body, "member_id", 64)
    purpose = _optional_text(body, "purpose", 32)
    principal = current_principal()
    assert principal is not None
    return json_response(sessions.public_view(qr_sessions().consume(session_id, principal.actor, purpose, member_id)))


def _qr_image(session_id: str, kind: str) -> Response:
    sig = request.args.get("sig", "")
    try:
        signed_sid = URLSafeSerializer(current_app.secret_key, salt=IMAGE_SALT).loads(sig)  # type: ignore[arg-type]
    except BadSignature:
        signed_sid = None
    if signed_sid != session_id:
        _authorised_session(session_id)
    s = qr_sessions().get(session_id)
    if s.status == sessions.EXPIRED:
        raise errors.SESSION_EXPIRED()
    if s.is_final:
        raise errors.SESSION_FINISHED({"status": s.status.value})
    url = scan_url(session_id)
    data, mime = (render.png(url), "image/png") if kind == "png" else (render.svg(url), "image/svg+xml")
    return no_store(Response(data, mimetype=mime))


@bp.get("/v1/sessions/<session_id>/qr.png")
def qr_png(session_id: str) -> Any:
    """The session's QR code as PNG (signed ``sig`` from the create response, or the poll token)."""
    return _qr_image(session_id, "png")


@bp.get("/v1/sessions/<session_id>/qr.svg")
def qr_svg(session_id: str) -> Any:
    """The session's QR code as SVG."""
    return _qr_image(session_id, "svg")


def _database_unavailable(_exc: Exception) -> Any:
    """A database outage anywhere in these endpoints (auth included) is a 503, never a 500."""
    err = store_unavailable()
    return json_response(err.to_dict(), err.status)


for _cls in SQL_UNAVAILABLE:
    bp.register_error_handler(_cls, _database_unavailable)
