"""In-memory OAuth state: codes, access tokens and refresh tokens, behind one lock.

Every public method takes the lock for its whole read-check-write, so "exchange a code" is atomic:
twenty threads racing one code see exactly one success and nineteen ``40163 code been used``.
Time comes from an injected clock (seconds, any epoch) so tests expire codes without sleeping.
"""

from __future__ import annotations

import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from mock_wechat import errors

# Lifetimes from WeChat's web-authorization doc: "code只能使用一次，5分钟未被使用自动过期";
# access_token expires_in 7200; the official-account refresh_token lives 30 days.
CODE_TTL_S = 300.0
ACCESS_TOKEN_TTL_S = 7200
REFRESH_TOKEN_TTL_S = 30 * 24 * 3600.0
# Sweep dead entries at most this often so a long-running mock does not grow without bound; keep
# them a day past expiry so late callers still get "expired" (42001/42002) rather than "invalid".
SWEEP_INTERVAL_S = 60.0
SWEEP_GRACE_S = 24 * 3600.0

SCOPE_BASE = "snsapi_base"
SCOPE_USERINFO = "snsapi_userinfo"
SCOPES = frozenset({SCOPE_BASE, SCOPE_USERINFO})

_ALNUM = string.ascii_letters + string.digits
_TOKEN_CHARS = _ALNUM + "-_"


class AdjustableClock:
    """Wraps a base clock and adds an offset that tests (or ``/_mock/clock``) can advance."""

    def __init__(self, base: Callable[[], float] = time.monotonic) -> None:
        self._base = base
        self._offset = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._base() + self._offset

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._offset += seconds


@dataclass(frozen=True)
class Grant:
    """What the user authorised: this openid, for this app, with this scope."""

    appid: str
    openid: str
    scope: str


@dataclass(frozen=True)
class TokenSet:
    """The body of a successful access_token / refresh_token answer."""

    access_token: str
    expires_in: int
    refresh_token: str
    grant: Grant


@dataclass
class _Code:
    grant: Grant
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    grant: Grant
    expires_at: float


def _random(chars: str, n: int) -> str:
    return "".join(secrets.choice(chars) for _ in range(n))


def new_code() -> str:
    # Real codes are 32 alphanumerics (e.g. "0a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P"-like).
    return _random(_ALNUM, 32)


def new_token(prefix: str) -> str:
    # Real OAuth tokens are a numeric version, "_", then ~100 URL-safe characters.
    return f"{prefix}_{_random(_TOKEN_CHARS, 100)}"


@dataclass
class OAuthState:
    """All mutable mock state.  Thread-safe; every method is one atomic step."""

    clock: Callable[[], float] = field(default_factory=AdjustableClock)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)
    _codes: dict[str, _Code] = field(default_factory=dict, init=False, repr=False)
    _access: dict[str, _Token] = field(default_factory=dict, init=False, repr=False)
    _refresh: dict[str, _Token] = field(default_factory=dict, init=False, repr=False)
    _last_sweep: float = field(default=float("-inf"), init=False, repr=False)

    def issue_code(self, grant: Grant) -> str:
        with self._lock:
            now = self.clock()
            self._sweep(now)
            code = new_code()
            self._codes[code] = _Code(grant, now + CODE_TTL_S)
            return code

    def redeem_code(self, code: str, appid: str) -> TokenSet:
        """Exchange a code once.  Unknown, foreign or expired → 40029; second use → 40163."""
        with self._lock:
            entry = self._codes.get(code)
            # Read "used" before the clock.  Under the lock the order is irrelevant; without it, the
            # concurrency test's slow clock turns this read-then-write into a visible double spend.
            used = entry is not None and entry.used
            now = self.clock()
            # WeChat answers 40029 for a code it does not know, one issued to another appid, and one
            # past its five minutes (the design notes list "expired" under 40029).
            if entry is None or entry.grant.appid != appid or now >= entry.expires_at:
                raise errors.WeChatError(errors.INVALID_CODE)
            if used:
                raise errors.WeChatError(errors.CODE_BEEN_USED)
            entry.used = True  # kept until expiry so a replay answers 40163, not 40029
            return self._issue_tokens(entry.grant, now, refresh_token=None)

    def refresh(self, refresh_token: str, appid: str) -> TokenSet:
        """New access token for a live refresh token; the refresh token itself is returned unchanged."""
        with self._lock:
            now = self.clock()
            entry = self._refresh.get(refresh_token)
            if entry is None or entry.grant.appid != appid:
                raise errors.WeChatError(errors.INVALID_REFRESH_TOKEN)
            if now >= entry.expires_at:
                raise errors.WeChatError(errors.REFRESH_TOKEN_EXPIRED)
            return self._issue_tokens(entry.grant, now, refresh_token=refresh_token)

    def check_access_token(self, access_token: str, openid: str) -> Grant:
        """The grant behind a live token for this openid, else 40001 / 42001 / 40003."""
        with self._lock:
            entry = self._access.get(access_token)
            if entry is None:
                raise errors.WeChatError(errors.INVALID_CREDENTIAL)
            if self.clock() >= entry.expires_at:
                raise errors.WeChatError(errors.ACCESS_TOKEN_EXPIRED)
            if entry.grant.openid != openid:
                raise errors.WeChatError(errors.INVALID_OPENID)
            return entry.grant

    def reset(self) -> None:
        with self._lock:
            self._codes.clear()
            self._access.clear()
            self._refresh.clear()

    def counts(self) -> dict[str, int]:
        with self._lock:
            return {
                "codes": len(self._codes),
                "codes_used": sum(c.used for c in self._codes.values()),
                "access_tokens": len(self._access),
                "refresh_tokens": len(self._refresh),
            }

    # -- internals (lock held) -------------------------------------------------------------------

    def _issue_tokens(self, grant: Grant, now: float, *, refresh_token: str | None) -> TokenSet:
        access_token = new_token("87")
        self._access[access_token] = _Token(grant, now + ACCESS_TOKEN_TTL_S)
        if refresh_token is None:
            refresh_token = new_token("87")
            self._refresh[refresh_token] = _Token(grant, now + REFRESH_TOKEN_TTL_S)
        return TokenSet(access_token, ACCESS_TOKEN_TTL_S, refresh_token, grant)

    def _sweep(self, now: float) -> None:
        if now - self._last_sweep < SWEEP_INTERVAL_S:
            return
        self._last_sweep = now
        for table in (self._codes, self._access, self._refresh):
            for key in [k for k, v in table.items() if now >= v.expires_at + SWEEP_GRACE_S]:
                del table[key]
