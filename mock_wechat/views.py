"""The WeChat endpoints: the authorize page (open.weixin.qq.com) and the /sns/ API (api.weixin.qq.com).

Both hosts are served by one app, so point a client's ``OAUTH_BASE_URL`` at ``{base}/connect/`` and
its ``API_BASE_URL`` at ``{base}/``.  API errors are HTTP 200 + ``{"errcode", "errmsg"}`` exactly as
WeChat answers them; the authorize page renders WeChat's HTML error page instead.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import Blueprint, Response, redirect, render_template_string, request
from werkzeug.wrappers import Response as BaseResponse

from mock_wechat import errors
from mock_wechat.core import current_mock
from mock_wechat.errors import WeChatError
from mock_wechat.state import SCOPE_USERINFO, SCOPES, Grant, TokenSet
from mock_wechat.users import OPENID_HEADER, is_valid_openid, profile_for, select_openid

bp = Blueprint("wechat", __name__)

# Code shown for a bad `response_type`; WeChat's 100xx table has no entry for it.
PAGE_BAD_RESPONSE_TYPE = 10008

_ERROR_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>微信网页授权</title></head>
<body data-errcode="{{ errcode }}">
<h2>Oops! Something went wrong:(</h2>
<p class="errcode">错误码：{{ errcode }}</p>
<p class="errmsg">{{ errmsg }}</p>
</body></html>
"""

_OPEN_IN_WECHAT_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>微信网页授权</title></head>
<body><p>请在微信客户端打开链接</p></body></html>
"""


def wechat_json(body: dict[str, object]) -> Response:
    # WeChat writes compact UTF-8 JSON, not \u escapes (nicknames arrive readable).
    text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(text, status=200, content_type="application/json; charset=utf-8")


def _error_page(err: WeChatError) -> Response:
    """WeChat's in-browser error page; JSON instead when the caller asks for JSON."""
    if request.accept_mimetypes.best == "application/json":
        resp = wechat_json(errors.error_body(err.errcode, err.errmsg))
    else:
        html = render_template_string(_ERROR_PAGE, errcode=err.errcode, errmsg=err.errmsg)
        resp = Response(html, status=200, content_type="text/html; charset=utf-8")
    resp.headers["X-Mock-Errcode"] = str(err.errcode)  # lets tests assert without parsing HTML
    return resp


def _with_code(redirect_uri: str, code: str, state: str) -> str:
    """Add code and state to the query, keeping any existing query and the fragment after them."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + [("code", code), ("state", state)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _check_redirect_uri(redirect_uri: str, allowed: frozenset[str]) -> None:
    """WeChat redirects only to its app's 网页授权域名: the exact host (no subdomain, any port).

    Anything a browser could read differently from this parser is refused too: a backslash
    (``https://evil.example\\@idsvc.example/`` goes to evil.example in a browser), user info,
    whitespace or control characters.
    """
    if any(c == "\\" or c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in redirect_uri):
        raise WeChatError(errors.PAGE_REDIRECT_URI_MISMATCH)
    try:
        parts = urlsplit(redirect_uri)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise WeChatError(errors.PAGE_REDIRECT_URI_MISMATCH) from None
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc:
        raise WeChatError(errors.PAGE_REDIRECT_URI_MISMATCH)
    if host.rstrip(".") not in allowed:
        raise WeChatError(errors.PAGE_REDIRECT_URI_MISMATCH)


@bp.get("/connect/oauth2/authorize")
def authorize() -> BaseResponse:
    """Silent authorisation: the user always consents, and the phone is redirected at once."""
    mock = current_mock()
    args = request.args
    if mock.config.require_wechat_ua and "MicroMessenger" not in request.headers.get("User-Agent", ""):
        return Response(_OPEN_IN_WECHAT_PAGE, status=200, content_type="text/html; charset=utf-8")
    try:
        appid = args.get("appid", "")
        if not appid:
            raise WeChatError(errors.PAGE_APPID_EMPTY)
        if appid != mock.config.appid:
            raise WeChatError(errors.INVALID_APPID)
        redirect_uri = args.get("redirect_uri", "")
        if not redirect_uri:
            raise WeChatError(errors.PAGE_REDIRECT_URI_EMPTY)
        _check_redirect_uri(redirect_uri, mock.config.redirect_hosts)
        if args.get("response_type") != "code":
            raise WeChatError(PAGE_BAD_RESPONSE_TYPE, "response_type错误")
        scope = args.get("scope", "")
        if not scope:
            raise WeChatError(errors.PAGE_SCOPE_EMPTY)
        if scope not in SCOPES:
            raise WeChatError(errors.PAGE_SCOPE_NOT_PERMITTED)
        openid = select_openid(request.headers.get(OPENID_HEADER), request.cookies, mock.config.default_openid)
        if not is_valid_openid(openid):
            raise WeChatError(errors.INVALID_OPENID)
    except WeChatError as err:
        return _error_page(err)
    code = mock.state.issue_code(Grant(appid=appid, openid=openid, scope=scope))
    # WeChat echoes state verbatim and always sends the key, empty when none was given.
    return redirect(_with_code(redirect_uri, code, args.get("state", "")), code=302)


def _require(name: str, missing: int) -> str:
    value = request.args.get(name, "")
    if not value:
        raise WeChatError(missing)
    return value


def _check_app(*, with_secret: bool) -> str:
    mock = current_mock()
    appid = _require("appid", errors.APPID_MISSING)
    if appid != mock.config.appid:
        raise WeChatError(errors.INVALID_APPID)
    if with_secret:
        secret = _require("secret", errors.APPSECRET_MISSING)
        if not hmac.compare_digest(secret.encode(), mock.config.secret.encode()):
            raise WeChatError(errors.INVALID_APPSECRET)
    return appid


def _token_body(tokens: TokenSet) -> dict[str, object]:
    body: dict[str, object] = {
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "refresh_token": tokens.refresh_token,
        "openid": tokens.grant.openid,
        "scope": tokens.grant.scope,
    }
    if tokens.grant.scope == SCOPE_USERINFO:
        # The doc: unionid is returned only when scope is snsapi_userinfo.
        body["unionid"] = profile_for(tokens.grant.openid)["unionid"]
    return body


def _api(endpoint: str, handler: Callable[[], dict[str, object]]) -> Response:
    fault = current_mock().faults.take(endpoint)
    if fault is not None:
        return wechat_json(errors.error_body(fault))
    try:
        return wechat_json(handler())
    except WeChatError as err:
        return wechat_json(errors.error_body(err.errcode, err.errmsg))


@bp.get("/sns/oauth2/access_token")
def access_token() -> Response:
    def handle() -> dict[str, object]:
        appid = _check_app(with_secret=True)
        if request.args.get("grant_type") != "authorization_code":
            raise WeChatError(errors.INVALID_GRANT_TYPE)
        code = _require("code", errors.CODE_MISSING)
        return _token_body(current_mock().state.redeem_code(code, appid))

    return _api("access_token", handle)


@bp.get("/sns/oauth2/refresh_token")
def refresh_token() -> Response:
    def handle() -> dict[str, object]:
        appid = _check_app(with_secret=False)
        if request.args.get("grant_type") != "refresh_token":
            raise WeChatError(errors.INVALID_GRANT_TYPE)
        token = _require("refresh_token", errors.REFRESH_TOKEN_MISSING)
        return _token_body(current_mock().state.refresh(token, appid))

    return _api("refresh_token", handle)


@bp.get("/sns/userinfo")
def userinfo() -> Response:
    def handle() -> dict[str, object]:
        token = _require("access_token", errors.ACCESS_TOKEN_MISSING)
        openid = _require("openid", errors.OPENID_MISSING)
        grant = current_mock().state.check_access_token(token, openid)
        if grant.scope != SCOPE_USERINFO:
            raise WeChatError(errors.API_UNAUTHORIZED)
        return profile_for(grant.openid, request.args.get("lang", "zh_CN"))

    return _api("userinfo", handle)


@bp.get("/sns/auth")
def auth() -> Response:
    def handle() -> dict[str, object]:
        token = _require("access_token", errors.ACCESS_TOKEN_MISSING)
        openid = _require("openid", errors.OPENID_MISSING)
        current_mock().state.check_access_token(token, openid)
        return {"errcode": 0, "errmsg": "ok"}

    return _api("auth", handle)


# -- official-account API (/cgi-bin/) -------------------------------------------------------------


@bp.get("/cgi-bin/token")
def app_token() -> Response:
    """The app's access token (client_credential): a new one on every call, valid 7200 s."""

    def handle() -> dict[str, object]:
        mock = current_mock()
        if request.args.get("grant_type") != "client_credential":
            raise WeChatError(errors.INVALID_GRANT_TYPE)
        appid = _require("appid", errors.APPID_MISSING)
        if appid != mock.config.appid:
            raise WeChatError(errors.INVALID_APPID)
        secret = _require("secret", errors.APPSECRET_MISSING)
        if not hmac.compare_digest(secret.encode(), mock.config.secret.encode()):
            # This endpoint's doc: "40001 AppSecret错误或者AppSecret不属于这个公众号".
            raise WeChatError(errors.INVALID_CREDENTIAL)
        mock.mp.count_call("token")
        token, expires_in = mock.mp.issue_token()
        return {"access_token": token, "expires_in": expires_in}

    return _api("token", handle)


def _template_body() -> dict[str, object]:
    raw = request.get_data(cache=False)
    if not raw.strip():
        raise WeChatError(errors.EMPTY_POST_DATA)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise WeChatError(errors.DATA_FORMAT_ERROR) from None
    if not isinstance(body, dict):
        raise WeChatError(errors.DATA_FORMAT_ERROR)
    return body


def _template_data(value: object) -> dict[str, object]:
    """``{"keyword1": {"value": "…", "color": "#173177"}, …}``; a missing ``data`` is an empty one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WeChatError(errors.DATA_FORMAT_ERROR)
    for key, item in value.items():
        if not isinstance(item, dict) or not isinstance(item.get("value", ""), str):
            raise WeChatError(errors.DATA_FORMAT_ERROR, f"data format error: {key}")
    return value


@bp.route("/cgi-bin/message/template/send", methods=["GET", "POST"])
def template_send() -> Response:
    """Send a template message to a follower; ``{"errcode": 0, "errmsg": "ok", "msgid": N}``."""

    def handle() -> dict[str, object]:
        mock = current_mock()
        token = _require("access_token", errors.ACCESS_TOKEN_MISSING)
        mock.mp.check_token(token)
        if request.method != "POST":
            raise WeChatError(errors.REQUIRE_POST_METHOD)
        body = _template_body()
        mock.mp.count_call("template_send")
        touser = body.get("touser")
        if not isinstance(touser, str) or not is_valid_openid(touser):
            raise WeChatError(errors.INVALID_OPENID)
        template_id = body.get("template_id")
        if not isinstance(template_id, str) or not template_id.strip():
            raise WeChatError(errors.INVALID_TEMPLATE_ID)
        url = body.get("url")
        if url is not None and not isinstance(url, str):
            raise WeChatError(errors.DATA_FORMAT_ERROR)
        miniprogram = body.get("miniprogram")
        if miniprogram is not None and not isinstance(miniprogram, dict):
            raise WeChatError(errors.DATA_FORMAT_ERROR)
        data = _template_data(body.get("data"))
        msgid = mock.mp.deliver(touser, template_id, url or None, data, miniprogram)
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    return _api("template_send", handle)


API_ENDPOINTS = ("access_token", "refresh_token", "userinfo", "auth", "token", "template_send")
