"""A client for the two WeChat OAuth calls we make: the authorize URL and code → openid.

Built from base URLs so that tests and ``make run`` point it at ``mock_wechat``.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import requests

from idsvc.core.errors import IdsvcError


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
        """The openid for an OAuth ``code``; raises a 502 IdsvcError with WeChat's errcode."""
        try:
            resp = requests.get(
                f"{self.api_base}sns/oauth2/access_token",
                params={"appid": self.appid, "secret": self.secret, "code": code, "grant_type": "authorization_code"},
                timeout=self.timeout,
            )
            data = resp.json()
        except (requests.RequestException, ValueError) as exc:
            raise IdsvcError(
                "wechat_unavailable", "微信服务暂时不可用，请稍后重试", "WeChat is unavailable; retry later", status=502
            ) from exc
        if not isinstance(data, dict) or data.get("errcode") or not data.get("openid"):
            errcode = data.get("errcode") if isinstance(data, dict) else None
            raise IdsvcError(
                "wechat_auth_failed",
                "微信授权失败，请重新扫码",
                "WeChat authorisation failed; scan again",
                status=502 if errcode not in (40029, 40163) else 400,
                details={"wechat_errcode": errcode},
            )
        return str(data["openid"])
