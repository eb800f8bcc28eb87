"""QR verification sessions: the state machine of ``sessions.py`` stored in Redis and audited in SQL."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from idsvc.core import audit
from idsvc.core.db import Member
from idsvc.core.errors import IdsvcError, not_found
from idsvc.core.services import Services
from idsvc.qr import sessions as sm

Clock = Callable[[], float]
MAX_WAIT = 30


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass
class QrSessions:
    svc: Services
    clock: Clock = time.time

    # -- keys ---------------------------------------------------------------------------
    def _key(self, sid: str) -> str:
        return self.svc.store.key("qr", "session", sid)

    def channel(self, sid: str) -> str:
        return self.svc.store.channel("qr", sid)

    def _member_key(self, member_id: str) -> str:
        return self.svc.store.key("qr", "member", member_id)

    @property
    def _retention(self) -> int:
        return self.svc.settings.session_ttl + self.svc.settings.session_retention

    # -- reads --------------------------------------------------------------------------
    def get(self, sid: str) -> sm.Session:
        """The session, moved to ``expired`` first if its time has run out; 404 when purged."""
        if not sid or len(sid) > 64:
            raise not_found("session", "验证会话")
        s = self.svc.store.get_json(self._key(sid))
        if s is None:
            raise not_found("session", "验证会话")
        if sm.is_expired(s, self.clock()):
            s = self.apply(sid, lambda cur: sm.expire(cur, self.clock()), "session.expired", "system")
        return s

    def check_poll_token(self, s: sm.Session, token: str | None) -> None:
        if not token or not hmac.compare_digest(_digest(token), s["poll_token_hash"]):
            raise IdsvcError("invalid_poll_token", "轮询令牌无效", "Missing or wrong poll token", status=403)

    def wait(self, sid: str, version: int, timeout: float) -> sm.Session:
        """Answer when the version differs from ``version``, the session expires, or ``timeout`` passes."""
        deadline = self.clock() + min(timeout, MAX_WAIT)
        with self.svc.notifier.listen(self.channel(sid)) as changed:
            while True:
                s = self.get(sid)
                remaining = deadline - self.clock()
                if s["version"] != version or remaining <= 0:
                    return s
                # Also wake at expiry, so the poller sees `expired` on time without a timer job.
                if s["status"] not in sm.FINAL:
                    remaining = min(remaining, max(0.0, s["expires_at"] - self.clock()) + 0.01)
                changed.wait(remaining)
                changed.clear()

    # -- writes -------------------------------------------------------------------------
    def apply(
        self,
        sid: str,
        step: Callable[[sm.Session], sm.Session | None],
        event: str,
        actor: str,
        extra: dict[str, Any] | None = None,
    ) -> sm.Session:
        return self._apply_changed(sid, step, event, actor, extra)[0]

    def _apply_changed(
        self,
        sid: str,
        step: Callable[[sm.Session], sm.Session | None],
        event: str,
        actor: str,
        extra: dict[str, Any] | None = None,
    ) -> tuple[sm.Session, bool]:
        """Run one transition atomically; audit it if it changed anything.  Returns (session, changed)."""
        new, changed = self.svc.store.update_json(self._key(sid), step, publish=self.channel(sid))
        if new is None:
            raise not_found("session", "验证会话")
        if changed:
            data = {"status": new["status"], "purpose": new["purpose"], **(extra or {})}
            if new.get("failure"):
                data["reason"] = new["failure"].get("code")
            if new["status"] == sm.FAILED:
                event = "session.failed"
            with self.svc.db.session() as db:
                audit.record(db, event, actor, f"session:{sid}", data)
        return new, changed

    def create(self, actor: str, member_id: str, purpose: str, desktop: dict[str, str]) -> tuple[sm.Session, str]:
        with self.svc.db.session() as db:
            if db.get(Member, member_id) is None:
                raise not_found("member", "会员")
        sid = secrets.token_urlsafe(16)
        poll_token = secrets.token_urlsafe(32)
        now = self.clock()
        s = sm.new_session(sid, member_id, purpose, desktop, now, self.svc.settings.session_ttl)
        s["poll_token_hash"] = _digest(poll_token)
        self.svc.store.set_json(self._key(sid), s, self._retention)
        self.svc.store.redis.sadd(self._member_key(member_id), sid)
        self.svc.store.redis.expire(self._member_key(member_id), self._retention)
        with self.svc.db.session() as db:
            audit.record(
                db,
                "session.created",
                actor,
                f"session:{sid}",
                {"member_id": member_id, "purpose": purpose, "desktop_ip": desktop.get("ip", "")},
            )
        return s, poll_token

    def scan(self, sid: str, openid: str) -> sm.Session:
        s, changed = self._apply_changed(
            sid, lambda cur: sm.scan(cur, openid, self.clock()), "session.scanned", f"wechat:{openid}"
        )
        if changed:  # a repeated scan by the same phone was audited the first time
            with self.svc.db.session() as db:
                member = db.get(Member, s["member_id"])
                if member is not None and member.openid and not hmac.compare_digest(member.openid, openid):
                    audit.record(
                        db,
                        "session.openid_mismatch",
                        f"wechat:{openid}",
                        f"session:{sid}",
                        {"member_id": s["member_id"]},
                    )
        return s

    def confirm(self, sid: str, openid: str, code: str) -> sm.Session:
        from idsvc.liveness.challenges import pick_challenge

        challenge = pick_challenge(self.svc.settings.challenges)
        return self.apply(
            sid,
            lambda cur: sm.confirm(cur, openid, code, self.clock(), challenge),
            "session.confirmed",
            f"wechat:{openid}",
        )

    def consume(self, sid: str, actor: str, purpose: str | None, member_id: str | None) -> sm.Session:
        def step(cur: sm.Session) -> sm.Session:
            if member_id is not None and not hmac.compare_digest(cur["member_id"], member_id):
                raise IdsvcError(
                    "member_mismatch", "验证会话不属于该会员", "This session belongs to another member", status=409
                )
            return sm.consume(cur, purpose, self.clock())

        return self.apply(sid, step, "session.consumed", actor)

    def cancel(self, sid: str, actor: str) -> sm.Session:
        return self.apply(sid, lambda cur: sm.cancel(cur, self.clock()), "session.cancelled", actor)

    def cancel_open_for_member(self, member_id: str, actor: str) -> list[str]:
        """Cancel every non-final session of a member (e.g. after an ID-number change)."""
        cancelled = []
        for sid in self.svc.store.redis.smembers(self._member_key(member_id)):
            try:
                s = self.get(sid)
            except IdsvcError:
                continue
            if s["status"] not in sm.FINAL:
                try:
                    self.cancel(sid, actor)
                    cancelled.append(sid)
                except IdsvcError:
                    pass
        return cancelled
