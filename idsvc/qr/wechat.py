"""A client for the two WeChat OAuth calls we make: the authorize URL and code → openid.

Built from base URLs so that tests and ``make run`` point it at ``mock_wechat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from idsvc.qr import errors

#: WeChat's answers that mean the code itself is bad: invalid, already used, missing.
CODE_ERRCODES = frozenset({40029, 40163, 41008})


@dataclass(frozen=True)
class WeChatClient:
    appid: str
    secret: str
    api_base: str
    oauth_base: str
    timeout: float = 5.0

    def authorize_url(self, redirect_uri: str, state: str, scope: str = "snsapi_base") -> str:
        query = urlencode(
            {"appid": self.appid, "redirect_uri": redirect_uri, "response_type": "code", "scope": scope, "state": state}
        )
        return f"{self.oauth_base}oauth2/authorize?{query}#wechat_redirect"

    def exchange_code(self, code: str) -> str:
        """The openid for an OAuth ``code``: 400 ``wechat_auth_failed`` if WeChat refuses the code, else 502."""
        try:
            resp = requests.get(
                f"{self.api_base}sns/oauth2/access_token",
                params={"appid": self.appid, "secret": self.secret, "code": code, "grant_type": "authorization_code"},
                timeout=self.timeout,
            )
            data = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise errors.WECHAT_UNAVAILABLE() from exc
        if not isinstance(data, dict) or data.get("errcode") or not data.get("openid"):
            errcode = data.get("errcode") if isinstance(data, dict) else None
            spec = errors.WECHAT_AUTH_FAILED if errcode in CODE_ERRCODES else errors.WECHAT_UNAVAILABLE
            raise spec({"wechat_errcode": errcode})
        return str(data["openid"])
