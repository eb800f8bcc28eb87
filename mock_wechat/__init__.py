"""mock_wechat: an offline stand-in for WeChat's web OAuth2 (公众号网页授权) servers and the
official-account API idsvc uses (app access token, template messages).

One Flask app serves both WeChat hosts: the authorize page (``{base}/connect/oauth2/authorize``,
real host open.weixin.qq.com) and the API (``{base}/sns/...`` and ``{base}/cgi-bin/...``, real
host api.weixin.qq.com).
Point idsvc at it with ``IDSVC_WECHAT_OAUTH_BASE={base}/connect/`` and
``IDSVC_WECHAT_API_BASE={base}/``.  Run it with ``python -m mock_wechat --port N``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from flask import Flask

from mock_wechat.core import EXTENSION_KEY, MockConfig, MockWeChat
from mock_wechat.state import AdjustableClock
from mock_wechat.users import DEFAULT_OPENID, OPENID_COOKIE, OPENID_HEADER

DEV_APPID = "wx_dev_appid"
DEV_SECRET = "dev_secret"
# idsvc's default IDSVC_PUBLIC_URL: its host is the default 网页授权域名.
DEV_PUBLIC_URL = "http://127.0.0.1:8000"

__all__ = [
    "DEFAULT_OPENID",
    "DEV_APPID",
    "DEV_PUBLIC_URL",
    "DEV_SECRET",
    "OPENID_COOKIE",
    "OPENID_HEADER",
    "create_app",
]


def create_app(
    appid: str | None = None,
    secret: str | None = None,
    *,
    clock: Callable[[], float] | None = None,
    default_openid: str = DEFAULT_OPENID,
    redirect_hosts: Iterable[str] | None = None,
    require_wechat_ua: bool = False,
    public_url: str | None = None,
) -> Flask:
    """Build the mock.  appid/secret default to ``IDSVC_WECHAT_APPID``/``IDSVC_WECHAT_SECRET``
    (so ``make run`` pairs idsvc with it), then to the dev values ``wx_dev_appid``/``dev_secret``.

    ``clock`` returns seconds (any epoch; default ``time.monotonic``); tests pass their own to expire
    codes without sleeping.  ``redirect_hosts`` are the hosts a redirect_uri may name, like WeChat's
    网页授权域名; by default the one host of ``public_url``, else of ``IDSVC_PUBLIC_URL``, else of
    idsvc's default ``http://127.0.0.1:8000``.  ``require_wechat_ua`` refuses non-WeChat browsers.
    """
    from mock_wechat import (  # late: they import core, which needs Flask ready
        admin,
        views,
    )

    if redirect_hosts is None:
        url = public_url or os.environ.get("IDSVC_PUBLIC_URL") or DEV_PUBLIC_URL
        host = urlsplit(url).hostname
        if not host:
            raise ValueError(f"public_url {url!r} has no host")
        redirect_hosts = [host]
    config = MockConfig.build(
        appid or os.environ.get("IDSVC_WECHAT_APPID") or DEV_APPID,
        secret or os.environ.get("IDSVC_WECHAT_SECRET") or DEV_SECRET,
        default_openid,
        redirect_hosts,
        require_wechat_ua,
    )
    app = Flask(__name__)
    app.extensions[EXTENSION_KEY] = MockWeChat(
        config=config, clock=AdjustableClock(clock) if clock else AdjustableClock()
    )
    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp)
    return app
