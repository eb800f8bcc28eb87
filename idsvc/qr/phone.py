"""Pages the member's phone sees inside WeChat: scan → OAuth → pick the desktop's number.

State lives in Flask's signed, HttpOnly, SameSite=Lax cookie (``idsvc_m``): the OAuth ``state``
we sent, the session id and openid once known, and a CSRF token that every POST must echo
(``X-CSRF-Token`` header or ``csrf_token`` field; pages expose it in a meta tag).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from flask import (
    Blueprint,
    Response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from idsvc.core.errors import IdsvcError
from idsvc.qr import sessions as sm
from idsvc.qr.service import QrSessions
from idsvc.qr.tokens import read_scan_token
from idsvc.qr.wechat import WeChatClient
from idsvc.webkit.context import services
from idsvc.webkit.http import form_or_json, json_response, no_store

bp = Blueprint("phone", __name__)

CODE_CACHE_TTL = 300  # WeChat codes live 5 minutes; a duplicate callback comes within that.
SCANS_PER_MINUTE = 30


def _wechat() -> WeChatClient:
    s = services().settings
    return WeChatClient(s.wechat_appid, str(s.wechat_secret), s.wechat_api_base, s.wechat_oauth_base)


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
    if not expected or not hmac.compare_digest(str(sent).encode(), str(expected).encode()):
        raise IdsvcError(
            "csrf_failed",
            "页面已失效，请刷新后重试",
            "The page expired (CSRF check failed); reload and retry",
            status=403,
        )


def _in_wechat() -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


@bp.get("/m/<token>")
def scan(token: str) -> Any:
    """Landing page of the QR: outside WeChat a hint; inside, off to WeChat's OAuth."""
    if not _in_wechat():
        html = render_template(
            "phone_message.html",
            title="请使用微信扫一扫",
            message="请使用微信扫一扫",
            message_en="Please scan with WeChat",
            code="not_wechat",
            csrf_token=None,
        )
        return no_store(Response(html, status=403, mimetype="text/html"))
    svc = services()
    sid = read_scan_token(str(svc.settings.secret_key), token)
    qs = QrSessions(svc)
    try:
        s = qs.get(sid)
    except IdsvcError as exc:
        if exc.status == 404:  # purged long after expiry: to the member it is simply expired
            raise IdsvcError("session_expired", "二维码已过期", "The QR code has expired", status=410) from None
        raise
    if s["status"] == sm.EXPIRED:
        raise IdsvcError("session_expired", "二维码已过期", "The QR code has expired", status=410)
    if s["status"] in sm.FINAL:
        raise IdsvcError(
            "session_finished",
            "本次验证已结束，请在电脑上重新发起",
            "This verification has finished; start again on the computer",
            status=409,
        )
    if session.get("sid") == sid and session.get("openid") and session.get("openid") == s.get("openid"):
        return no_store(redirect(url_for("phone.page", session_id=sid)))
    # Each visit stores an OAuth state in Redis: cap how fast one client can make them.
    if svc.store.hit(svc.store.key("rate", "scan", request.remote_addr or "-"), 60) > SCANS_PER_MINUTE:
        raise IdsvcError(
            "rate_limited", "操作过于频繁，请稍后再试", "Too many requests; try again in a minute", status=429
        )
    state = secrets.token_urlsafe(24)
    svc.store.set_json(svc.store.key("qr", "state", state), {"sid": sid}, svc.settings.session_ttl)
    session.clear()
    session.update({"state": state, "sid": sid})
    callback = f"{svc.settings.public_url}{url_for('phone.oauth_callback')}"
    return no_store(redirect(_wechat().authorize_url(callback, state)))


def _openid_for_code(code: str) -> str:
    """Exchange ``code`` once; a duplicate callback (WeChat sometimes sends two) reuses the answer."""
    svc = services()
    cache_key = svc.store.key("wx", "code", hashlib.sha256(code.encode()).hexdigest())
    cached = svc.redis.get(cache_key)
    if cached:
        return str(cached)
    try:
        openid = _wechat().exchange_code(code)
    except IdsvcError as exc:
        if exc.details.get("wechat_errcode") != 40163:
            raise
        # The twin callback is exchanging this code right now: wait for its answer.
        for _ in range(30):
            time.sleep(0.1)
            cached = svc.redis.get(cache_key)
            if cached:
                return str(cached)
        raise
    svc.redis.set(cache_key, openid, ex=CODE_CACHE_TTL)
    return openid


@bp.get("/m/oauth/callback")
def oauth_callback() -> Any:
    """WeChat's redirect back with ``code`` and ``state``: learn the openid, mark the session scanned."""
    code = request.args.get("code", "")
    state = request.args.get("state", "")
    bad_state = IdsvcError(
        "invalid_state",
        "授权请求无效或已被使用，请重新扫码",
        "The authorisation request is invalid or was replayed; scan again",
        status=400,
    )
    if not code or not state or len(code) > 256 or len(state) > 128:
        raise bad_state
    if not hmac.compare_digest(str(session.get("state", "")).encode(), state.encode()):
        raise bad_state
    svc = services()
    record = svc.store.get_json(svc.store.key("qr", "state", state))
    if record is None:
        raise bad_state
    # Single use, but idempotent for WeChat's duplicate delivery of the *same* code.
    code_hash = hashlib.sha256(code.encode()).hexdigest()
    previous = svc.store.set_once(svc.store.key("qr", "state_used", state), code_hash, svc.settings.session_ttl)
    if previous is not None and not hmac.compare_digest(previous, code_hash):
        raise bad_state
    openid = _openid_for_code(code)
    sid = record["sid"]
    QrSessions(svc).scan(sid, openid)
    session["openid"] = openid
    session["sid"] = sid
    _csrf_token()
    return no_store(redirect(url_for("phone.page", session_id=sid)))


def _my_session(session_id: str) -> sm.Session:
    if session.get("sid") != session_id or not session.get("openid"):
        raise IdsvcError(
            "not_your_session",
            "请用微信重新扫描电脑上的二维码",
            "Scan the QR code on the computer with WeChat again",
            status=403,
        )
    s = QrSessions(services()).get(session_id)
    if s.get("openid") != session.get("openid"):
        raise IdsvcError(
            "not_your_session",
            "该验证不属于当前微信用户",
            "This verification belongs to another WeChat user",
            status=403,
        )
    return s


def _fmt_time(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


@bp.get("/m/s/<session_id>")
def page(session_id: str) -> Any:
    """The phone's page for a scanned session: which computer asked, and the three numbers."""
    s = _my_session(session_id)
    html = render_template(
        "phone_confirm.html",
        s=s,
        desktop_ip=s["desktop"].get("ip") or "未知",
        desktop_browser=_browser_name(s["desktop"].get("user_agent", "")),
        created=_fmt_time(s["created_at"]),
        csrf_token=_csrf_token(),
        instruction=_challenge_text(s.get("challenge"))[0],
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
    if not isinstance(code, str) or not code.isdigit() or len(code) > 4:
        raise IdsvcError(
            "invalid_input",
            "请选择电脑上显示的数字",
            "match_code must be the number shown on the computer",
            details={"field": "match_code"},
        )
    s = QrSessions(services()).confirm(session_id, str(session["openid"]), code)
    if _wants_json():
        return json_response(sm.public_view(s))
    return no_store(redirect(url_for("phone.page", session_id=session_id)))


def _challenge_text(name: str | None) -> tuple[str, str]:
    from idsvc.liveness.challenges import CHALLENGES

    c = CHALLENGES.get(name or "")
    return (c.instruction_zh, c.instruction_en) if c else ("", "")


@bp.post("/m/sessions/<session_id>/video")
def upload_video(session_id: str) -> Any:
    """The 3-second video (multipart ``video``): analysed at once; answers the outcome for the phone."""
    from idsvc.qr.verify import verify_video

    _check_csrf()
    _my_session(session_id)
    upload = request.files.get("video")
    if upload is None:
        raise IdsvcError(
            "invalid_input", "请上传视频", "Upload the video as multipart field `video`", details={"field": "video"}
        )
    limit = services().settings.max_video_bytes
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise IdsvcError(
            "payload_too_large",
            f"视频过大（上限 {limit // (1024 * 1024)} MB），请录制约 3 秒",
            "The video is too large; record about 3 seconds",
            status=413,
        )
    if not data:
        raise IdsvcError(
            "invalid_input", "视频为空，请重新录制", "The video is empty; record again", details={"field": "video"}
        )
    s, decision = verify_video(QrSessions(services()), session_id, str(session["openid"]), data)
    zh, en = _challenge_text(s.get("challenge"))
    return json_response(
        {
            "status": s["status"],
            "passed": decision.get("passed", False),
            "reason": decision.get("reason") or s.get("last_reason"),
            "message": decision.get("message") or "视频核验出错，请重新录制",
            "message_en": decision.get("message_en") or "The video could not be checked; record again",
            "challenge": s.get("challenge"),
            "instruction": zh,
            "instruction_en": en,
            "attempts_left": max(0, sm.MAX_ATTEMPTS - s.get("attempts", 0)) if s["status"] == sm.CONFIRMED else 0,
        }
    )


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
