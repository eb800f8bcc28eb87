"""WeChat's error vocabulary: numeric ``errcode`` plus an English ``errmsg``.

The API endpoints under ``/sns/`` answer errors the way WeChat does: HTTP 200 with a JSON body
``{"errcode": 40029, "errmsg": "invalid code, rid: 65f1c0de-1a2b3c4d-5e6f7a8b"}``.  Real errmsgs carry
a per-request ``rid`` suffix, so clients must branch on ``errcode`` and never compare ``errmsg``
verbatim; the mock appends one too, which keeps clients honest.

The official-account API under ``/cgi-bin/`` (app access token, template messages) answers the
same way.  The authorize page (``open.weixin.qq.com``) is different: WeChat shows an HTML error page in the
phone's browser ("Oops! Something went wrong:(") with a five-digit 100xx code.
"""

from __future__ import annotations

import secrets
import time

# Codes answered by api.weixin.qq.com /sns/* (global return-code table + web-authorization doc).
SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001
INVALID_GRANT_TYPE = 40002
INVALID_OPENID = 40003
INVALID_APPID = 40013
INVALID_CODE = 40029
INVALID_REFRESH_TOKEN = 40030
INVALID_APPSECRET = 40125
CODE_BEEN_USED = 40163
ACCESS_TOKEN_MISSING = 41001
APPID_MISSING = 41002
REFRESH_TOKEN_MISSING = 41003
APPSECRET_MISSING = 41004
CODE_MISSING = 41008
OPENID_MISSING = 41009
ACCESS_TOKEN_EXPIRED = 42001
REFRESH_TOKEN_EXPIRED = 42002
API_UNAUTHORIZED = 48001
# Official-account API (/cgi-bin/): template messages and the app access token.
INVALID_TEMPLATE_ID = 40037
REQUIRE_POST_METHOD = 43002
REQUIRE_SUBSCRIBE = 43004
EMPTY_POST_DATA = 44002
API_DAILY_QUOTA = 45009
DATA_FORMAT_ERROR = 47001

ERRMSG: dict[int, str] = {
    SYSTEM_BUSY: "system error",
    INVALID_CREDENTIAL: "invalid credential, access_token is invalid or not latest",
    INVALID_GRANT_TYPE: "invalid grant_type",
    INVALID_OPENID: "invalid openid",
    INVALID_APPID: "invalid appid",
    INVALID_CODE: "invalid code",
    INVALID_REFRESH_TOKEN: "invalid refresh_token",
    INVALID_APPSECRET: "invalid appsecret",
    CODE_BEEN_USED: "code been used",
    ACCESS_TOKEN_MISSING: "access_token missing",
    APPID_MISSING: "appid missing",
    REFRESH_TOKEN_MISSING: "refresh_token missing",
    APPSECRET_MISSING: "appsecret missing",
    CODE_MISSING: "missing code",
    OPENID_MISSING: "missing openid",
    ACCESS_TOKEN_EXPIRED: "access_token expired",
    REFRESH_TOKEN_EXPIRED: "refresh_token expired",
    API_UNAUTHORIZED: "api unauthorized",
    INVALID_TEMPLATE_ID: "invalid template_id",
    REQUIRE_POST_METHOD: "require POST method",
    REQUIRE_SUBSCRIBE: "require subscribe",
    EMPTY_POST_DATA: "empty post data",
    API_DAILY_QUOTA: "reach max api daily quota limit",
    DATA_FORMAT_ERROR: "data format error",
}

# Codes shown on the authorize error page (web-authorization doc, "错误返回码").
PAGE_REDIRECT_URI_MISMATCH = 10003
PAGE_SCOPE_NOT_PERMITTED = 10005
PAGE_SCOPE_EMPTY = 10010
PAGE_REDIRECT_URI_EMPTY = 10011
PAGE_APPID_EMPTY = 10012
PAGE_ERRMSG: dict[int, str] = {
    # The doc's table says "redirect_uri域名与后台配置不一致"; the page phones actually show says this.
    PAGE_REDIRECT_URI_MISMATCH: "redirect_uri 参数错误",
    PAGE_SCOPE_NOT_PERMITTED: "此公众号并没有这些scope的权限",
    PAGE_SCOPE_EMPTY: "scope不能为空",
    PAGE_REDIRECT_URI_EMPTY: "redirect_uri不能为空",
    PAGE_APPID_EMPTY: "appid不能为空",
    # Not in the 100xx table: the page for an unknown appid or a bad mock identity reuses the API code.
    INVALID_APPID: "invalid appid",
    INVALID_OPENID: "invalid openid",
}


class WeChatError(Exception):
    """An error WeChat would answer; ``errmsg`` is the canonical text without the rid suffix."""

    def __init__(self, errcode: int, errmsg: str | None = None) -> None:
        self.errcode = errcode
        self.errmsg = errmsg or ERRMSG.get(errcode) or PAGE_ERRMSG.get(errcode, "error")
        super().__init__(f"{self.errcode}: {self.errmsg}")


def new_rid() -> str:
    """A WeChat-looking request id: three groups of eight hex digits, the first time-based."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}-{secrets.token_hex(4)}-{secrets.token_hex(4)}"


def error_body(errcode: int, errmsg: str | None = None, *, rid: str | None = None) -> dict[str, object]:
    """The JSON body WeChat returns for an error, with the ``, rid: …`` suffix it appends."""
    text = errmsg or ERRMSG.get(errcode, "error")
    return {"errcode": errcode, "errmsg": f"{text}, rid: {rid or new_rid()}"}
