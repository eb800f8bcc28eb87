"""The phone's WeChat OAuth round trip, as a plain service: issue a ``state``, turn (state, code) into
the session id and the openid.

Rules (README "The phone (WeChat)"):

* a ``state`` is single-use: it names one session, lives as long as a session may, and is bound to
  the first ``code`` it comes back with; the same state with another code is a replay → 400;
* a ``code`` belongs to the first state it came back with; the same code under another state is a
  replay of a leaked code (it would let an attacker's session borrow the victim's openid) → 400,
  and it is audited;
* WeChat sometimes delivers the callback twice.  The openid learnt for (state, code) is cached for
  the code's 5-minute life, keyed on both, so the twin gets the same answer and no other state
  ever does; a twin that arrives while the first is still exchanging the code waits for it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from idsvc.core import audit
from idsvc.core.db import Database
from idsvc.core.errors import IdsvcError
from idsvc.core.store import Store
from idsvc.qr import errors
from idsvc.qr.errors import sql_errors_as_503

log = logging.getLogger(__name__)

CODE_TTL = 300  # WeChat codes live 5 minutes; a duplicate callback comes within that.
#: WeChat's "code been used": the twin callback is exchanging this code right now.
CODE_BEEN_USED = 40163
TWIN_WAIT_STEPS = 30
TWIN_WAIT_STEP = 0.1
MAX_CODE = 256
MAX_STATE = 128


def _h(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class Callback:
    session_id: str
    openid: str


class WeChat(Protocol):
    def authorize_url(self, redirect_uri: str, state: str, scope: str = ...) -> str: ...

    def exchange_code(self, code: str) -> str:
        """The openid for ``code``; raises IdsvcError with ``details["wechat_errcode"]`` if refused."""
        ...


EXTENSION = "idsvc.qr.oauth"


@dataclass
class PhoneOAuth:
    """Collaborators: the Redis ``store``, the SQL ``db`` (audit), the ``wechat`` client,
    ``state_ttl`` seconds, and a ``sleep`` used while waiting for a twin callback."""

    store: Store
    db: Database
    wechat: WeChat
    state_ttl: int
    sleep: Callable[[float], None] = field(default=time.sleep)

    def _state_key(self, state: str) -> str:
        return self.store.key("qr", "state", _h(state))

    def begin(self, session_id: str, callback_url: str) -> tuple[str, str]:
        """A fresh single-use ``state`` naming ``session_id``, and WeChat's authorize URL carrying it."""
        state = secrets.token_urlsafe(24)
        self.store.set_json(self._state_key(state), {"sid": session_id}, self.state_ttl)
        return state, self.wechat.authorize_url(callback_url, state)

    def complete(self, state: str, code: str, *, actor: str = "anonymous") -> Callback:
        """Check the callback's ``state`` and ``code``; the session it names and the phone's openid."""
        if not code or not state or len(code) > MAX_CODE or len(state) > MAX_STATE:
            raise errors.OAUTH_STATE_INVALID()
        record = self.store.get_json(self._state_key(state))
        if record is None or not isinstance(record.get("sid"), str):
            raise errors.OAUTH_STATE_INVALID()
        sid: str = record["sid"]
        state_h, code_h = _h(state), _h(code)
        # The state is bound to its first code ...
        first_code = self.store.set_once(self.store.key("qr", "state_used", state_h), code_h, self.state_ttl)
        if first_code is not None and not hmac.compare_digest(first_code, code_h):
            raise errors.OAUTH_STATE_INVALID({"reason": "state_reused"})
        # ... and the code to its first state.
        first_state = self.store.set_once(self.store.key("qr", "code_state", code_h), state_h, CODE_TTL)
        if first_state is not None and not hmac.compare_digest(first_state, state_h):
            with sql_errors_as_503(), self.db.session() as db:
                audit.record(db, "session.oauth_code_replayed", actor, f"session:{sid}", {"code_sha256": code_h[:16]})
            log.warning("OAuth code replayed under another state", extra={"fields": {"session": sid}})
            raise errors.OAUTH_STATE_INVALID({"reason": "code_replayed"})
        return Callback(sid, self._openid(state_h, code_h, code))

    def _openid(self, state_h: str, code_h: str, code: str) -> str:
        cache_key = self.store.key("qr", "code_openid", state_h, code_h)
        cached = self.store.get_str(cache_key)
        if cached:
            return cached
        try:
            openid = self.wechat.exchange_code(code)
        except IdsvcError as exc:
            if exc.details.get("wechat_errcode") != CODE_BEEN_USED:
                raise
            for _ in range(TWIN_WAIT_STEPS):  # the twin callback (same state, same code) is exchanging it
                self.sleep(TWIN_WAIT_STEP)
                cached = self.store.get_str(cache_key)
                if cached:
                    return cached
            raise
        self.store.set_str(cache_key, openid, CODE_TTL)
        return openid
