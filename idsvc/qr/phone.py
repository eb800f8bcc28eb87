"""Pages the member's phone sees inside WeChat: scan → OAuth → pick the desktop's number.

State lives in Flask's signed, HttpOnly, SameSite=Lax cookie (``idsvc_m``): the OAuth ``state``
we sent, the session id and openid once known, and a CSRF token that every POST must echo
(``X-CSRF-Token`` header or ``csrf_token`` field; pages expose it in a meta tag).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Any, cast

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

import idsvc.liveness as liveness
from idsvc.core.errors import IdsvcError, invalid_input, payload_too_large, store_unavailable
from idsvc.qr import challenges, errors, limits, oauth, service
from idsvc.qr import sessions as sm
from idsvc.qr.errors import SQL_UNAVAILABLE
from idsvc.qr.limits import RateLimiter
from idsvc.qr.oauth import PhoneOAuth
from idsvc.qr.service import MAX_WAIT, QrSessions
from idsvc.qr.tokens import read_scan_token
from idsvc.webkit.context import feature_service, services
from idsvc.webkit.http import form_or_json, int_arg, json_response, no_store

bp = Blueprint("phone", __name__)


def _sessions() -> QrSessions:
    return feature_service(service.EXTENSION, QrSessions)


def _oauth() -> PhoneOAuth:
    return feature_service(oauth.EXTENSION, PhoneOAuth)


def _limiter() -> RateLimiter:
    return feature_service(limits.EXTENSION, RateLimiter)


def _redirect(location: str) -> Response:
    return no_store(cast(Response, redirect(location)))


def _wants_json() -> bool:
    return request.mimetype == "application/json" or request.accept_mimetypes.best == "application/json"


def error_page(err: IdsvcError) -> Any:
    """Errors under /m/ are Chinese pages (JSON for JSON clients), with the error's status."""
    if _wants_json():
        response = json_response(err.to_dict(), err.status)
        return response
    html = render_template(
        "phone_message.html",
        title="无法继续",
        message=err.message,
        message_en=err.message_en,
        code=err.code,
        csrf_token=None,
    )
    return no_store(Response(html, status=err.status, mimetype="text/html"))


def _csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def _check_csrf() -> None:
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf_token") or ""
    expected = session.get("csrf")
    if not expected or not hmac.compare_digest(
        str(sent).encode("utf-8", "surrogatepass"), str(expected).encode("utf-8", "surrogatepass")
    ):
        raise errors.CSRF_FAILED()


def _in_wechat() -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


@bp.get("/m/<token>")
def scan(token: str) -> Any:
    """Landing page of the QR: outside WeChat a hint; inside, off to WeChat's OAuth."""
    if not _in_wechat():
        raise errors.NOT_WECHAT()
    sid = read_scan_token(str(services().settings.secret_key), token)
    try:
        s = _sessions().get(sid)
    except IdsvcError as exc:
        if exc.code == "session_not_found":  # purged long after expiry: to the member it is simply expired
            raise errors.SESSION_EXPIRED() from None
        raise
    if s.status == sm.EXPIRED:
        raise errors.SESSION_EXPIRED()
    if s.is_final:
        raise errors.SESSION_FINISHED({"status": s.status.value})
    if session.get("sid") == sid and session.get("openid") and session.get("openid") == s.openid:
        return _redirect(url_for("phone.page", session_id=sid))
    _limiter().check("scan", request.remote_addr or "-")
    callback = f"{services().settings.public_url}{url_for('phone.oauth_callback')}"
    state, authorize_url = _oauth().begin(sid, callback)
    session.clear()
    session.update({"state": state, "sid": sid})
    return _redirect(authorize_url)


@bp.get("/m/oauth/callback")
def oauth_callback() -> Any:
    """WeChat's redirect back with ``code`` and ``state``: learn the openid, mark the session scanned."""
    code = request.args.get("code", "")
    state = request.args.get("state", "")
    expected = str(session.get("state", ""))
    if not expected or not hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), state.encode("utf-8", "surrogatepass")
    ):
        raise errors.OAUTH_STATE_INVALID()
    done = _oauth().complete(state, code, actor=f"phone:{request.remote_addr or '-'}")
    _sessions().scan(done.session_id, done.openid)
    session["openid"] = done.openid
    session["sid"] = done.session_id
    _csrf_token()
    return _redirect(url_for("phone.page", session_id=done.session_id))


def _my_session(session_id: str) -> sm.Session:
    if session.get("sid") != session_id or not session.get("openid"):
        raise errors.NOT_YOUR_SESSION()
    s = _sessions().get(session_id)
    if s.openid != session.get("openid"):
        raise errors.NOT_YOUR_SESSION()
    return s


def _fmt_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


@bp.get("/m/s/<session_id>")
def page(session_id: str) -> Any:
    """The phone's page for a scanned session: which computer asked, and the three numbers."""
    s = _my_session(session_id)
    html = render_template(
        "phone_confirm.html",
        s=s.to_json(),
        desktop_ip=s.desktop.get("ip") or "未知",
        desktop_browser=_browser_name(s.desktop.get("user_agent", "")),
        created=_fmt_time(s.created_at),
        csrf_token=_csrf_token(),
        instruction=challenges.instruction(s.challenge)[0],
        capture_steps=challenges.page_steps(s.challenge),
        max_attempts=sm.MAX_ATTEMPTS,
    )
    return no_store(Response(html, mimetype="text/html"))


@bp.post("/m/sessions/<session_id>/confirm")
def confirm(session_id: str) -> Any:
    """The number the member tapped (``match_code``): right → confirmed, wrong → failed."""
    _check_csrf()
    _my_session(session_id)
    body = form_or_json()
    code = body.get("match_code")
    if isinstance(code, int) and not isinstance(code, bool):
        code = str(code)
    if not isinstance(code, str) or not code.isascii() or not code.isdigit() or len(code) > 4:
        raise invalid_input("match_code", "must be the number shown on the computer", "请选择电脑上显示的数字")
    s = _sessions().confirm(session_id, str(session["openid"]), code)
    if _wants_json():
        return json_response(sm.public_view(s))
    return _redirect(url_for("phone.page", session_id=session_id))


@bp.post("/m/sessions/<session_id>/video")
def upload_video(session_id: str) -> Any:
    """The 3-second video (multipart ``video``) → 202: queued for a worker; follow /status."""
    _check_csrf()
    _my_session(session_id)
    upload = request.files.get("video")
    if upload is None:
        raise invalid_input("video", "is missing: upload the video as multipart field `video`", "请上传视频")
    limit = services().settings.max_video_bytes
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise payload_too_large(limit)
    if not data:
        raise invalid_input("video", "is empty; record again", "为空，请重新录制")
    s = _sessions().submit_video(session_id, str(session["openid"]), data)
    body = phone_view(s)
    body["status_url"] = url_for("phone.status", session_id=session_id)
    return json_response(body, 202)


@bp.get("/m/sessions/<session_id>/status")
def status(session_id: str) -> Any:
    """The phone follows its own session: ``?wait=N&version=V`` long-polls like the desktop."""
    s = _my_session(session_id)
    wait = int_arg("wait", 0, MAX_WAIT)
    if wait:
        version = int_arg("version", 0, 2**31)
        s = _sessions().wait(session_id, s.version if version is None else version, wait)
    return json_response(phone_view(s))


def phone_view(s: sm.Session) -> dict[str, Any]:
    """What the phone needs: the state, the outcome in the member's words, the next action."""
    reason = s.failure if s.status == sm.FAILED else s.last_reason
    if s.status == sm.VERIFIED:
        zh, en = liveness.reason_message(None)
    elif reason:
        zh, en = liveness.reason_message(reason)
    else:
        zh = en = ""
    instruction_zh, instruction_en = challenges.instruction(s.challenge)
    return {
        "status": s.status.value,
        "version": s.version,
        "passed": s.status == sm.VERIFIED,
        "reason": reason,
        "message": zh,
        "message_en": en,
        "challenge": s.challenge,
        "steps": challenges.page_steps(s.challenge),
        "instruction": instruction_zh,
        "instruction_en": instruction_en,
        "attempt": s.attempts,
        "attempts_left": max(0, sm.MAX_ATTEMPTS - s.attempts) if s.status == sm.CONFIRMED else 0,
        "expires_at": sm.iso(s.expires_at),
        "expires_in": max(0.0, round(s.expires_at - _sessions().clock(), 1)) if not s.is_final else 0.0,
    }


def _database_unavailable(_exc: Exception) -> Any:
    """A database outage anywhere under these pages (auth included) is a 503, never a 500."""
    return error_page(store_unavailable())


for _cls in SQL_UNAVAILABLE:
    bp.register_error_handler(_cls, _database_unavailable)


def _browser_name(user_agent: str) -> str:
    ua = user_agent or ""
    for token, name in (
        ("Edg/", "Edge"),
        ("MicroMessenger", "微信"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Safari/", "Safari"),
    ):
        if token in ua:
            os_name = next(
                (o for k, o in (("Windows", "Windows"), ("Mac OS X", "macOS"), ("Linux", "Linux")) if k in ua), ""
            )
            return f"{name}（{os_name}）" if os_name else name
    return ua[:60] or "未知浏览器"
