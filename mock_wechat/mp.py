"""In-memory state of the official-account (公众号) API: app access tokens, followers, sent messages.

WeChat's rules reproduced here (official-account docs, "获取Access token" and "模板消息接口"):

- ``GET /cgi-bin/token`` issues a new access token valid 7200 s on every call.  The previous tokens
  keep working for 5 minutes and then stop (``40001``), which is why a service must fetch the token
  in one place and share it rather than have every process fetch its own.
- An expired token answers ``42001``; an unknown or superseded one ``40001``.
- Each API has a daily call quota per app (token: 2000, template send: 100000); past it, ``45009``.
- A template message reaches only a user who follows the account; otherwise ``43004``.

Every public method is one atomic step under the lock.  Time comes from the mock's clock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mock_wechat import errors
from mock_wechat.state import ACCESS_TOKEN_TTL_S, new_token

# "在刷新过程中 … 公众平台后台会保证在5分钟内，新老access_token都可用"
OLD_TOKEN_GRACE_S = 300.0
DAY_S = 86400.0
# Default daily quotas of a verified service account (接口调用频次限制说明).
DEFAULT_DAILY_LIMITS: dict[str, int] = {"token": 2000, "template_send": 100_000}
MAX_KEPT_MESSAGES = 1000


@dataclass(frozen=True)
class SentMessage:
    msgid: int
    touser: str
    template_id: str
    url: str | None
    data: dict[str, Any]
    miniprogram: dict[str, Any] | None
    sent_at: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "msgid": self.msgid,
            "touser": self.touser,
            "template_id": self.template_id,
            "url": self.url,
            "data": self.data,
            "miniprogram": self.miniprogram,
            "sent_at": self.sent_at,
        }


@dataclass
class OfficialAccountState:
    clock: Callable[[], float]
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _tokens: dict[str, float] = field(default_factory=dict, init=False, repr=False)  # token -> expires_at
    _unsubscribed: set[str] = field(default_factory=set, init=False, repr=False)
    _messages: deque[SentMessage] = field(default_factory=lambda: deque(maxlen=MAX_KEPT_MESSAGES), init=False)
    _limits: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_DAILY_LIMITS), init=False)
    _calls: dict[tuple[str, int], int] = field(default_factory=dict, init=False, repr=False)
    _next_msgid: int = field(default=2_000_000_000_000_000, init=False, repr=False)

    # -- API side ----------------------------------------------------------------------------------

    def count_call(self, endpoint: str) -> None:
        """Count one call against today's quota; ``45009`` once the quota is used up."""
        with self._lock:
            day = int(self.clock() // DAY_S)
            used = self._calls.get((endpoint, day), 0)
            if used >= self._limits.get(endpoint, 0):
                raise errors.WeChatError(errors.API_DAILY_QUOTA)
            self._calls = {k: v for k, v in self._calls.items() if k[1] == day}  # older days are gone
            self._calls[(endpoint, day)] = used + 1

    def issue_token(self) -> tuple[str, int]:
        with self._lock:
            now = self.clock()
            for token, expires_at in list(self._tokens.items()):
                if expires_at <= now - DAY_S:
                    del self._tokens[token]  # keep a day of dead tokens so they answer 42001, not 40001
                else:
                    self._tokens[token] = min(expires_at, now + OLD_TOKEN_GRACE_S)
            token = new_token("87")
            self._tokens[token] = now + ACCESS_TOKEN_TTL_S
            return token, ACCESS_TOKEN_TTL_S

    def check_token(self, token: str) -> None:
        with self._lock:
            expires_at = self._tokens.get(token)
            if expires_at is None:
                raise errors.WeChatError(errors.INVALID_CREDENTIAL)
            if self.clock() >= expires_at:
                raise errors.WeChatError(errors.ACCESS_TOKEN_EXPIRED)

    def deliver(
        self,
        touser: str,
        template_id: str,
        url: str | None,
        data: dict[str, Any],
        miniprogram: dict[str, Any] | None,
    ) -> int:
        with self._lock:
            if touser in self._unsubscribed:
                raise errors.WeChatError(errors.REQUIRE_SUBSCRIBE)
            self._next_msgid += 1
            self._messages.append(
                SentMessage(self._next_msgid, touser, template_id, url, data, miniprogram, self.clock())
            )
            return self._next_msgid

    # -- test controls (/_mock/mp/...) -------------------------------------------------------------

    def expire_tokens(self, token: str | None = None) -> int:
        """Make one token (or all) expired now: the next use answers 42001."""
        with self._lock:
            now = self.clock()
            targets = [token] if token is not None else list(self._tokens)
            hit = [t for t in targets if t in self._tokens and self._tokens[t] > now]
            for t in hit:
                self._tokens[t] = now
            return len(hit)

    def revoke_tokens(self, token: str | None = None) -> int:
        """Forget one token (or all): the next use answers 40001, as after a secret reset."""
        with self._lock:
            targets = [token] if token is not None else list(self._tokens)
            hit = [t for t in targets if self._tokens.pop(t, None) is not None]
            return len(hit)

    def set_subscribed(self, openid: str, subscribed: bool) -> None:
        with self._lock:
            if subscribed:
                self._unsubscribed.discard(openid)
            else:
                self._unsubscribed.add(openid)

    def set_daily_limit(self, endpoint: str, limit: int) -> None:
        with self._lock:
            self._limits[endpoint] = limit

    def messages(self, touser: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [m.as_dict() for m in self._messages if touser is None or m.touser == touser]

    def reset(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._unsubscribed.clear()
            self._messages.clear()
            self._limits = dict(DEFAULT_DAILY_LIMITS)
            self._calls.clear()

    def counts(self) -> dict[str, int]:
        with self._lock:
            now = self.clock()
            return {
                "mp_access_tokens_live": sum(1 for e in self._tokens.values() if e > now),
                "mp_messages": len(self._messages),
                "mp_unsubscribed": len(self._unsubscribed),
            }
