"""WeChat official-account (公众号) API client: the app access token and template messages.

Plain Python, no Flask.  Used to push "confirm this submission" links to a member's bound WeChat
(issue #13, "push instead of scan").

The access token (``GET cgi-bin/token?grant_type=client_credential``) is fetched in one place and
shared by every process through Redis (:class:`~idsvc.core.store.Store`), because WeChat

- limits token calls (2000 a day), and
- ends the previous token 5 minutes after a new one is issued, so processes fetching their own
  tokens would invalidate each other's.

The cached token lives ``expires_in - TOKEN_MARGIN_S`` seconds (Redis TTL, and the same deadline
on the injected clock).  Only one process fetches at a time (a short Redis lock); the others wait
for its token.  When WeChat answers ``40001`` (invalid credential) or ``42001`` (expired) to a send,
the token is refreshed once, unless another process already replaced it, and the send is retried
once: a send that WeChat refused for its token delivered nothing, so the retry cannot duplicate a
message.  A send that timed out is never retried (it may have been delivered).

Errors are catalogued here (owner ``wechat``): ``wechat_not_subscribed`` (43004),
``wechat_quota_exceeded`` (45009), ``wechat_push_failed`` (any other errcode, with
``details.wechat_errcode`` and ``details.step``) and ``wechat_push_unavailable`` (network, -1).
"""

from __future__ import annotations

import json
import logging
import math
import secrets
import time
from collections.abc import Mapping
from typing import Any

import requests

from idsvc.core.clock import Clock
from idsvc.core.errors import IdsvcError, define
from idsvc.core.store import Store

log = logging.getLogger(__name__)

# Refresh this long before WeChat's expiry (WeChat keeps an old token alive 5 minutes too).
TOKEN_MARGIN_S = 300
DEFAULT_EXPIRES_IN = 7200
# How often a process waiting for another's token fetch looks again.
LOCK_POLL_S = 0.05

ERR_INVALID_CREDENTIAL = 40001
ERR_INVALID_ACCESS_TOKEN = 40014
ERR_ACCESS_TOKEN_EXPIRED = 42001
ERR_REQUIRE_SUBSCRIBE = 43004
ERR_API_DAILY_QUOTA = 45009
ERR_SYSTEM_BUSY = -1
TOKEN_ERRCODES = frozenset({ERR_INVALID_CREDENTIAL, ERR_INVALID_ACCESS_TOKEN, ERR_ACCESS_TOKEN_EXPIRED})

WECHAT_NOT_SUBSCRIBED = define(
    "wechat_not_subscribed",
    409,
    "该微信用户未关注公众号，无法推送消息，请扫码",
    "The WeChat user does not follow the official account, so no message can be pushed; scan the QR code",
    owner="wechat",
)
WECHAT_QUOTA_EXCEEDED = define(
    "wechat_quota_exceeded",
    503,
    "微信消息推送已达今日上限，请扫码",
    "WeChat's daily quota for this call is used up; scan the QR code",
    owner="wechat",
)
WECHAT_PUSH_FAILED = define(
    "wechat_push_failed",
    502,
    "微信消息推送失败（错误码 {errcode}）",
    "WeChat refused the message (errcode {errcode})",
    owner="wechat",
)
WECHAT_PUSH_UNAVAILABLE = define(
    "wechat_push_unavailable",
    502,
    "微信服务暂时不可用，请稍后重试",
    "WeChat could not be reached; retry later",
    owner="wechat",
)

TemplateData = Mapping[str, str | Mapping[str, str]]


class OfficialAccount:
    """One official account (appid/secret) at ``api_base`` (``https://api.weixin.qq.com/``)."""

    def __init__(
        self,
        appid: str,
        secret: str,
        api_base: str,
        store: Store,
        clock: Clock,
        timeout: float = 5.0,
        *,
        http: requests.Session | None = None,
        margin: int = TOKEN_MARGIN_S,
    ) -> None:
        if not appid or not secret:
            raise ValueError("appid and secret are required")
        self.appid = appid
        self._secret = secret
        self.api_base = api_base.rstrip("/") + "/"
        self.store = store
        self.clock = clock
        self.timeout = timeout
        self.margin = margin
        self._http = http or requests.Session()

    def __repr__(self) -> str:  # never the secret
        return f"OfficialAccount(appid={self.appid!r}, api_base={self.api_base!r})"

    @property
    def token_key(self) -> str:
        return self.store.key("wechat", "mp_token", self.appid)

    @property
    def _lock_key(self) -> str:
        return self.store.key("wechat", "mp_token_lock", self.appid)

    # -- template messages ---------------------------------------------------------------------------

    def send_template(self, openid: str, template_id: str, url: str | None, data: TemplateData) -> int:
        """Send a template message; returns WeChat's ``msgid``.

        ``data`` maps template keywords to a text or to ``{"value", "color"}``.  Raises
        ``wechat_not_subscribed`` (409), ``wechat_quota_exceeded`` (503), ``wechat_push_failed``
        (502) or ``wechat_push_unavailable`` (502); ``store_unavailable`` (503) without Redis.
        """
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} if isinstance(v, str) else dict(v) for k, v in data.items()},
        }
        if url:
            body["url"] = url
        token = self.access_token()
        result = self._send(token, body)
        if _errcode(result) in TOKEN_ERRCODES:
            log.info("wechat template send: token refused (errcode %s); refreshing once", _errcode(result))
            token = self._refresh(stale=token)
            result = self._send(token, body)
        errcode = _errcode(result)
        if errcode == 0:
            msgid = result.get("msgid")
            if isinstance(msgid, int) and not isinstance(msgid, bool):
                return msgid
            raise WECHAT_PUSH_UNAVAILABLE({"step": "send", "reason": "no msgid"})
        raise _error_for(errcode, "send")

    def _send(self, token: str, body: dict[str, Any]) -> dict[str, Any]:
        payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
        return self._call(
            "post",
            "cgi-bin/message/template/send",
            "send",
            params={"access_token": token},
            data=payload,
            headers={"Content-Type": "application/json; charset=utf-8"},
        )

    # -- the access token ----------------------------------------------------------------------------

    def access_token(self) -> str:
        """The shared token: from Redis while fresh, else fetched (by one process at a time)."""
        return self._fresh_cached() or self._refresh(stale=None)

    def _fresh_cached(self) -> str | None:
        entry = self.store.get_json(self.token_key)
        if not entry:
            return None
        token = entry.get("access_token")
        refresh_at = entry.get("refresh_at")
        if not isinstance(token, str) or not isinstance(refresh_at, int | float):
            return None
        return token if self.clock() < refresh_at else None

    def _refresh(self, *, stale: str | None) -> str:
        """A token other than ``stale``: another process's fresh one, or one we fetch.

        Fetching is serialised across processes by a lock key that expires on its own (so a
        crashed holder cannot block the others for longer than the lock TTL); a waiter that sees
        no new token by the deadline fetches one itself.  Releasing uses GETDEL: if our lock had
        already expired and another process took it, we delete theirs, which at worst lets a
        third process fetch concurrently; WeChat keeps both tokens valid for 5 minutes.
        """
        lock_ttl = math.ceil(self.timeout) + 2
        deadline = time.monotonic() + lock_ttl
        me = secrets.token_hex(8)
        while True:
            cached = self._fresh_cached()
            if cached is not None and cached != stale:
                return cached
            if self.store.set_once(self._lock_key, me, lock_ttl) is None:
                try:
                    cached = self._fresh_cached()  # written between our read and our lock?
                    if cached is not None and cached != stale:
                        return cached
                    return self._fetch_and_cache()
                finally:
                    self.store.take(self._lock_key)
            if time.monotonic() >= deadline:
                log.warning("wechat access token: lock holder produced no token in %ss; fetching", lock_ttl)
                return self._fetch_and_cache()
            time.sleep(LOCK_POLL_S)

    def _fetch_and_cache(self) -> str:
        result = self._call(
            "get",
            "cgi-bin/token",
            "token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self._secret},
        )
        errcode = _errcode(result)
        token = result.get("access_token")
        if errcode != 0 or not isinstance(token, str) or not token:
            raise _error_for(errcode, "token")
        expires_in = result.get("expires_in", DEFAULT_EXPIRES_IN)
        if not isinstance(expires_in, int) or isinstance(expires_in, bool) or expires_in <= 0:
            expires_in = DEFAULT_EXPIRES_IN
        lifetime = max(1, expires_in - self.margin)
        now = self.clock()
        entry = {"access_token": token, "fetched_at": now, "refresh_at": now + lifetime, "expires_in": expires_in}
        self.store.set_json(self.token_key, entry, lifetime)
        log.info("wechat access token fetched for %s (expires_in %ss, cached %ss)", self.appid, expires_in, lifetime)
        return token

    # -- HTTP ----------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, step: str, **kwargs: Any) -> dict[str, Any]:
        try:
            resp = self._http.request(method, self.api_base + path, timeout=self.timeout, **kwargs)
            resp.raise_for_status()
            result = resp.json()
        except (requests.RequestException, ValueError) as exc:
            # The exception text may hold the URL with the secret or token: log its type only.
            log.warning("wechat %s call failed: %s", step, type(exc).__name__)
            raise WECHAT_PUSH_UNAVAILABLE({"step": step}) from None
        if not isinstance(result, dict):
            raise WECHAT_PUSH_UNAVAILABLE({"step": step, "reason": "not a JSON object"})
        return result


def _errcode(result: Mapping[str, Any]) -> int:
    value = result.get("errcode", 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        return ERR_SYSTEM_BUSY


def _error_for(errcode: int, step: str) -> IdsvcError:
    details = {"wechat_errcode": errcode, "step": step}
    if errcode == ERR_REQUIRE_SUBSCRIBE:
        return WECHAT_NOT_SUBSCRIBED(details)
    if errcode == ERR_API_DAILY_QUOTA:
        return WECHAT_QUOTA_EXCEEDED(details)
    if errcode == ERR_SYSTEM_BUSY:
        return WECHAT_PUSH_UNAVAILABLE(details)
    return WECHAT_PUSH_FAILED(details, errcode=errcode)
