"""Re-verifications: qr verification sessions bound to an action and the digest of the exact form.

Plain Python (no Flask).  The session machinery is qr's (:class:`~idsvc.qr.service.QrSessions`):
a re-verification is a session with ``purpose="reverify"`` and the binding fields (``action``,
``action_label``, ``payload_digest``, ``created_by``, ``service_name``).  This module adds

- the checks before any QR (member, bound WeChat, ID record, the attempts lock via qr's create),
- ``max_age``: reuse of a recent unconsumed verification of the same member, action and digest,
- the scan guard: only the member's bound WeChat may scan (others get 403, the session stays pending),
- the bound consume (creator only, action and digest equal, within ``reverify_validity`` s),
- the optional push of the phone link to the bound WeChat (official-account template message),
- unbinding the member's WeChat (a new phone).
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session as DbSession

from idsvc.core import audit
from idsvc.core.apikeys import Principal
from idsvc.core.db import AuditEntry, Database, IdRecord, Member
from idsvc.core.errors import MEMBER_NOT_FOUND, IdsvcError
from idsvc.core.settings import Settings
from idsvc.core.wechat_mp import OfficialAccount
from idsvc.qr import errors as qr_errors
from idsvc.qr import sessions as sm
from idsvc.qr.service import QrSessions
from idsvc.reverify import errors

log = logging.getLogger(__name__)

PURPOSE = "reverify"


def is_reverification(s: sm.Session) -> bool:
    return s.purpose == PURPOSE and s.action is not None


@dataclass(frozen=True)
class Request:
    member_id: str
    action: str
    action_label: str
    payload_digest: str
    max_age: int
    desktop: dict[str, str]


@dataclass(frozen=True)
class Consumed:
    session: sm.Session
    audit_seq: int
    verification_audit_seq: int | None


class Reverifications:
    def __init__(
        self, sessions: QrSessions, db: Database, settings: Settings, mp: OfficialAccount | None = None
    ) -> None:
        self.sessions = sessions
        self.db = db
        self.settings = settings
        self.mp = mp

    def now(self) -> float:
        return self.sessions.clock()

    # -- create -------------------------------------------------------------------------------------
    def _bound_openid(self, member_id: str) -> str:
        """The member's bound openid; 404 / 409 ``wechat_not_bound`` / 409 ``id_record_not_found``."""
        with self.db.session() as db:
            member = db.get(Member, member_id)
            if member is None:
                raise MEMBER_NOT_FOUND()
            if not member.openid:
                raise errors.WECHAT_NOT_BOUND()
            if db.get(IdRecord, member.id_number) is None:
                raise errors.ID_RECORD_NOT_FOUND()
            return member.openid

    def recent(self, principal: Principal, req: Request) -> sm.Session | None:
        """A verified, unconsumed re-verification of this member, action and digest, created by this
        key (any key for platform), verified at most ``max_age`` s ago and still consumable."""
        if req.max_age <= 0:
            return None
        now = self.now()
        best = None
        for s in self.sessions.for_member(req.member_id):
            if not (is_reverification(s) and s.status == sm.VERIFIED and s.consumed_at is None):
                continue
            if s.action != req.action or s.payload_digest != req.payload_digest or s.verified_at is None:
                continue
            if not self._may_use(principal, s):
                continue
            if now - s.verified_at > req.max_age or now - s.verified_at > self.settings.reverify_validity:
                continue
            if best is None or (best.verified_at or 0) < s.verified_at:
                best = s
        return best

    def create(self, principal: Principal, req: Request) -> tuple[sm.Session, str | None]:
        """→ (session, poll token) for a new re-verification, or (recent session, None) under ``max_age``."""
        self._bound_openid(req.member_id)
        found = self.recent(principal, req)
        if found is not None:
            return found, None
        binding: dict[str, str | None] = {
            "action": req.action,
            "action_label": req.action_label,
            "payload_digest": req.payload_digest,
            "created_by": principal.key_id,
            "service_name": principal.name,
        }
        return self.sessions.create(principal.actor, req.member_id, PURPOSE, req.desktop, binding=binding)

    # -- the phone ----------------------------------------------------------------------------------
    def guard_scan(self, s: sm.Session, openid: str) -> None:
        """qr's scan guard: a re-verification may be scanned only by the member's bound WeChat."""
        if not is_reverification(s) or s.openid is not None:
            return  # not ours, or already scanned (qr's own rules answer: same phone / already_scanned)
        with self.db.session() as db:
            member = db.get(Member, s.member_id)
            bound = member.openid if member is not None else None
            if bound and hmac.compare_digest(bound.encode(), openid.encode()):
                return
            audit.record(
                db,
                "reverification.wrong_wechat",
                f"wechat:{openid}",
                f"session:{s.session_id}",
                {"member_id": s.member_id, "action": s.action},
            )
        raise errors.NOT_BOUND_WECHAT()

    # -- consume ------------------------------------------------------------------------------------
    @staticmethod
    def _may_use(principal: Principal, s: sm.Session) -> bool:
        return principal.role == "platform" or (s.created_by is not None and s.created_by == principal.key_id)

    def get(self, principal: Principal, sid: str) -> sm.Session:
        """The re-verification if this key may use it; 404 otherwise (no hint that it exists)."""
        try:
            s = self.sessions.get(sid)
        except IdsvcError as exc:
            if exc.code == "session_not_found":
                raise errors.REVERIFICATION_NOT_FOUND() from None
            raise
        if not is_reverification(s) or not self._may_use(principal, s):
            raise errors.REVERIFICATION_NOT_FOUND()
        return s

    def consume(self, principal: Principal, sid: str, action: str, payload_digest: str) -> Consumed:
        self.get(principal, sid)
        validity = self.settings.reverify_validity
        seqs: dict[str, int | None] = {}

        def step(cur: sm.Session) -> sm.Session:
            if cur.status != sm.VERIFIED:
                raise qr_errors.NOT_VERIFIED({"status": cur.status.value})
            if cur.consumed_at is not None:
                raise qr_errors.ALREADY_CONSUMED()
            if not (
                hmac.compare_digest((cur.action or "").encode(), action.encode())
                and hmac.compare_digest((cur.payload_digest or "").encode(), payload_digest.encode())
            ):
                raise errors.PAYLOAD_MISMATCH({"action_matches": cur.action == action})
            now = self.now()
            if cur.verified_at is None or now - cur.verified_at > validity:
                raise errors.VERIFICATION_STALE({"validity": validity}, validity=validity)
            return sm.consume(cur, PURPOSE, now)

        def record(db: DbSession, _old: sm.Session, new: sm.Session) -> None:
            entry = audit.record(
                db,
                "reverification.consumed",
                principal.actor,
                f"session:{sid}",
                {
                    "member_id": new.member_id,
                    "action": new.action,
                    "payload_digest": new.payload_digest,
                    "verified_at": sm.iso(new.verified_at),
                    "key_id": principal.key_id,
                },
            )
            seqs["consumed"] = entry.seq
            seqs["verified"] = db.execute(
                select(func.max(AuditEntry.seq)).where(
                    AuditEntry.subject == f"session:{sid}", AuditEntry.event == "session.verified"
                )
            ).scalar_one_or_none()

        try:
            s = self.sessions.apply(sid, step, "session.consumed", principal.actor, also=record)
        except IdsvcError as exc:
            if exc.code in ("payload_mismatch", "verification_stale"):
                with self.db.session() as db:
                    audit.record(
                        db,
                        "reverification.consume_refused",
                        principal.actor,
                        f"session:{sid}",
                        {"reason": exc.code, "action": action, "payload_digest": payload_digest},
                    )
            raise
        return Consumed(s, int(seqs["consumed"] or 0), seqs.get("verified"))

    # -- push ---------------------------------------------------------------------------------------
    def notify(self, s: sm.Session, url: str) -> dict[str, Any]:
        """Send the phone link to the member's bound WeChat; → {"sent", "msgid"} or {"sent": False, "error"}.

        A refused push does not fail the re-verification: the desktop still shows the QR code.
        """
        if self.mp is None or not self.settings.wechat_template_id:
            err = errors.WECHAT_PUSH_NOT_CONFIGURED()
            return {"channel": "wechat", "sent": False, "error": err.to_dict()["error"]}
        openid = self._bound_openid(s.member_id)
        when = datetime.fromtimestamp(s.created_at, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        data = {
            "first": f"您正在确认提交：{s.action_label}",
            "keyword1": s.action_label or "",
            "keyword2": s.service_name or "",
            "keyword3": when,
            "remark": "请点击本消息，用本人微信完成人脸识别验证。如非本人操作，请忽略。",
        }
        try:
            msgid = self.mp.send_template(openid, self.settings.wechat_template_id, url, data)
        except IdsvcError as exc:
            log.warning("re-verification push refused: %s", exc.code, extra={"fields": {"session": s.session_id}})
            self._audit_push(s, {"sent": False, "reason": exc.code})
            return {"channel": "wechat", "sent": False, "error": exc.to_dict()["error"]}
        self._audit_push(s, {"sent": True, "msgid": msgid})
        return {"channel": "wechat", "sent": True, "msgid": msgid}

    def _audit_push(self, s: sm.Session, data: dict[str, Any]) -> None:
        with self.db.session() as db:
            audit.record(db, "reverification.notified", "system", f"session:{s.session_id}", data)

    # -- a new phone --------------------------------------------------------------------------------
    def unbind(self, actor: str, member_id: str, reason: str) -> list[str]:
        """Forget the member's WeChat (audited with who and why); open sessions of the member end,
        so nothing scanned by the old phone goes on.  The next successful login verification binds."""
        with self.db.session() as db:
            member = db.get(Member, member_id)
            if member is None:
                raise MEMBER_NOT_FOUND()
            if not member.openid:
                raise errors.WECHAT_NOT_BOUND()
            audit.record(
                db,
                "member.openid_unbound",
                actor,
                f"member:{member_id}",
                {"reason": reason, "bound_at": member.openid_bound_at.isoformat() if member.openid_bound_at else None},
            )
            member.openid, member.openid_bound_at = None, None
        return self.sessions.cancel_open_for_member(member_id, actor)
