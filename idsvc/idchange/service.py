"""Filing and moving ID-number change requests: SQL transactions, proof blobs, audit, side effects.

Every write is one transaction that also appends to the audit chain.  Races are settled by the
database, the same way on SQLite and PostgreSQL: a partial unique index allows one open request
per member, and each transition is ``UPDATE … WHERE state IN (expected)`` whose row count says
whether this caller won.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Update, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from idsvc.core import audit, signals, webhooks
from idsvc.core.apikeys import Principal
from idsvc.core.db import AuditHead, IdRecord, Member, MemberIdHistory, utcnow
from idsvc.core.errors import MEMBER_NOT_FOUND, IdsvcError
from idsvc.core.idnumber import InvalidIdNumber, forms, mask, mask_in_text, normalise, validate
from idsvc.core.services import Services
from idsvc.idchange import proofs
from idsvc.idchange.errors import (
    CONCURRENT_UPDATE,
    ID_CHANGE_NOT_FOUND,
    ID_CHANGE_OPEN,
    ID_NUMBER_TAKEN,
    ID_NUMBER_UNCHANGED,
    MEMBER_ID_NUMBER_CHANGED,
)
from idsvc.idchange.models import ChangeEvent, ChangeRequest
from idsvc.idchange.workflow import OPEN, TRANSITIONS, Action, State, plan

log = logging.getLogger(__name__)

MAX_REASON = 500


def iso_z(value: datetime | None) -> str | None:
    """A stored time as RFC 3339 UTC with ``Z``, on every database.

    SQLite keeps no offset (the column's values come back naive, and were written as UTC by
    :func:`utcnow`); PostgreSQL returns them in the session's time zone: both end up the same.
    """
    if value is None:
        return None
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- checks ------------------------------------------------------------------------------------
def check_new_number(raw: str) -> str:
    """The normalised new number, or :class:`InvalidIdNumber` naming the rule it broke."""
    number = normalise(raw)
    try:
        validate(number)
    except InvalidIdNumber as exc:
        exc.details["field"] = "new_id_number"
        raise
    if len(number) == 15:
        # First-generation cards stopped being valid on 2013-01-01: a record only ever moves *to* 18 digits.
        err = InvalidIdNumber(
            "legacy_format",
            "新身份证号须为 18 位（15 位旧号码请填写其 18 位形式）",
            "The new ID number must have 18 characters (give the 18-digit form of an old 15-digit number)",
        )
        err.details["field"] = "new_id_number"
        raise err
    return number


def unchanged() -> IdsvcError:
    return ID_NUMBER_UNCHANGED({"field": "new_id_number"})


def taken() -> IdsvcError:
    return ID_NUMBER_TAKEN()


def open_request_exists(request_id: str | None) -> IdsvcError:
    return ID_CHANGE_OPEN({"request_id": request_id})


def other_holders(session: Session, number: str, member_id: str) -> list[str]:
    """Members other than ``member_id`` on file under any spelling (15 or 18 digits) of ``number``."""
    rows = session.execute(
        select(Member.member_id).where(Member.id_number.in_(sorted(forms(number))), Member.member_id != member_id)
    )
    return list(rows.scalars())


def visible(req: ChangeRequest, principal: Principal) -> bool:
    """Local reviewers see only their association's requests; platform and national see all."""
    return principal.role != "local" or req.association == principal.association


def load(session: Session, principal: Principal, request_id: str) -> ChangeRequest:
    """The request if it exists and the caller may see it; 404 otherwise (never reveals other regions' requests)."""
    req = session.get(ChangeRequest, request_id) if 0 < len(request_id) <= 32 else None
    if req is None or not visible(req, principal):
        raise ID_CHANGE_NOT_FOUND()
    return req


def open_request_of(session: Session, member_id: str) -> ChangeRequest | None:
    return session.execute(
        select(ChangeRequest).where(
            ChangeRequest.member_id == member_id, ChangeRequest.state.in_([s.value for s in OPEN])
        )
    ).scalar_one_or_none()


def _rowcount(session: Session, statement: Update) -> int:
    """Rows matched by an UPDATE (a DML statement's result is a CursorResult, which has the count)."""
    result = session.execute(statement)
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _audit_data(req: ChangeRequest, **extra: Any) -> dict[str, Any]:
    return {
        "request_id": req.request_id,
        "member_id": req.member_id,
        "association": req.association,
        "old_id_number": mask(req.old_id_number),
        "new_id_number": mask(req.new_id_number),
        **extra,
    }


# -- filing ------------------------------------------------------------------------------------
def file_request(
    svc: Services, principal: Principal, member_id: str, new_raw: str, reason: str, proof: bytes
) -> ChangeRequest:
    """Create a ``submitted`` request: the proof blob is written before the row commits.

    If the transaction fails after the blob was written, the blob is removed again unless it
    existed before or another request references it, so a failure leaves neither an orphan row
    nor (except after a crash mid-request) an orphan blob.
    """
    new_number = check_new_number(new_raw)
    info = proofs.inspect(proof)
    digest = hashlib.sha256(proof).hexdigest()
    blob_existed = svc.blobs.exists(digest)
    request_id = "idc_" + secrets.token_hex(10)
    wrote_blob = False
    try:
        with svc.db.session() as s:
            member = s.get(Member, member_id)
            if member is None:
                raise MEMBER_NOT_FOUND()
            if new_number == member.id_number:
                raise unchanged()
            if other_holders(s, new_number, member_id):
                raise taken()
            existing = open_request_of(s, member_id)
            if existing is not None:
                raise open_request_exists(existing.request_id)
            now = utcnow()
            req = ChangeRequest(
                request_id=request_id,
                member_id=member_id,
                association=member.association,
                old_id_number=member.id_number,
                new_id_number=new_number,
                reason=reason,
                state=State.SUBMITTED.value,
                proof_sha256=digest,
                proof_mime=info.mime,
                proof_size=info.size,
                filed_by=principal.actor,
                created_at=now,
                updated_at=now,
            )
            s.add(req)
            s.flush()  # the row first: the event below references it (no ORM relationship orders them)
            s.add(
                ChangeEvent(
                    request_id=request_id,
                    action="submit",
                    from_state=None,
                    to_state=State.SUBMITTED.value,
                    actor=principal.actor,
                    role=principal.role,
                    key_id=principal.key_id,
                    comment="",
                    at=now,
                )
            )
            # The audit append locks the chain head until commit; writing the blob after it means
            # a concurrent cleanup of the same digest (which takes that lock too) cannot interleave.
            audit.record(
                s,
                "idchange.submitted",
                principal.actor,
                f"idchange:{request_id}",
                _audit_data(req, proof_sha256=digest, proof_mime=info.mime, proof_size=info.size),
            )
            wrote_blob = True  # set first: a put that fails half-way is cleaned up too
            svc.blobs.put(proof)
            # Leaving the block flushes the rest (event, audit entry, chain head) and commits.
    except IntegrityError:
        if wrote_blob:
            _discard_blob(svc, digest, blob_existed)
        with svc.db.session() as s:
            existing = open_request_of(s, member_id)
        if existing is not None:  # the partial unique index caught a concurrent filing
            raise open_request_exists(existing.request_id) from None
        raise
    except BaseException:
        if wrote_blob:
            _discard_blob(svc, digest, blob_existed)
        raise
    log.info(
        "id change filed", extra={"fields": {"request_id": request_id, "member_id": member_id, "proof_mime": info.mime}}
    )
    _notify(svc, req, None)
    return req


def _discard_blob(svc: Services, digest: str, existed_before: bool) -> None:
    """Delete a proof blob whose row did not commit, unless something else may still need it."""
    if existed_before:
        return
    try:
        with svc.db.session() as s:
            # Take the audit head lock every filing holds while it writes its blob, so no filing of
            # the same bytes is between "blob written" and "row committed" while we decide.
            s.execute(select(AuditHead.id).where(AuditHead.id == 1).with_for_update())
            referenced = s.execute(
                select(ChangeRequest.request_id).where(ChangeRequest.proof_sha256 == digest).limit(1)
            ).first()
            if referenced is None:
                svc.blobs.delete(digest)
    except Exception:
        log.exception("could not clean up a proof blob", extra={"fields": {"sha256": digest}})


# -- transitions -------------------------------------------------------------------------------
def transition(
    svc: Services, principal: Principal, request_id: str, action: Action, comment: str | None
) -> tuple[ChangeRequest, dict[str, Any]]:
    """Apply ``action``; exactly one of several concurrent callers succeeds, the rest get 409."""
    rule = TRANSITIONS[action]
    outcome: dict[str, Any] = {}
    try:
        with svc.db.session() as s:
            req = load(s, principal, request_id)
            previous = State(req.state)
            target, text = plan(action, previous, principal.role, comment)
            now = utcnow()
            won = _rowcount(
                s,
                update(ChangeRequest)
                .where(ChangeRequest.request_id == request_id, ChangeRequest.state.in_([x.value for x in rule.sources]))
                .values(state=target.value, updated_at=now)
                .execution_options(synchronize_session=False),
            )
            if won != 1:
                s.refresh(req)
                plan(action, State(req.state), principal.role, comment)  # raises the 409 with the state that beat us
                raise CONCURRENT_UPDATE()
            # Mirror the UPDATE on the loaded object without making it dirty (no second UPDATE at flush).
            set_committed_value(req, "state", target.value)
            set_committed_value(req, "updated_at", now)
            if action is Action.APPROVE:
                outcome = _apply_approval(s, req, principal)
            s.add(
                ChangeEvent(
                    request_id=request_id,
                    action=action.value,
                    from_state=previous.value,
                    to_state=target.value,
                    actor=principal.actor,
                    role=principal.role,
                    key_id=principal.key_id,
                    comment=text,
                    at=now,
                )
            )
            audit.record(
                s,
                f"idchange.{target.value}",
                principal.actor,
                f"idchange:{request_id}",
                _audit_data(
                    req,
                    action=action.value,
                    from_state=previous.value,
                    to_state=target.value,
                    comment=mask_in_text(text),
                    **outcome,
                ),
            )
    except IntegrityError:
        # Another member's approval (or `member add`) claimed the new number between our check and commit.
        raise taken() from None
    log.info(
        "id change moved", extra={"fields": {"request_id": request_id, "action": action.value, "state": target.value}}
    )
    if action is Action.APPROVE:
        _cancel_sessions(svc, req.member_id, principal.actor)
    _notify(svc, req, previous)
    return req, outcome


def _apply_approval(s: Session, req: ChangeRequest, principal: Principal) -> dict[str, Any]:
    """Inside the approving transaction: new number on the member, old one to history, ID record re-keyed."""
    member = s.execute(select(Member).where(Member.member_id == req.member_id).with_for_update()).scalar_one()
    if member.id_number != req.old_id_number:
        raise MEMBER_ID_NUMBER_CHANGED()
    if other_holders(s, req.new_id_number, member.member_id):
        raise taken()
    member.id_number = req.new_id_number
    s.add(
        MemberIdHistory(
            member_id=member.member_id,
            old_id_number=req.old_id_number,
            new_id_number=req.new_id_number,
            change_request_id=req.request_id,
            changed_at=req.updated_at,
        )
    )
    if s.get(IdRecord, req.new_id_number) is not None:
        record = "kept_existing"  # the new number already has a reference face: it wins, the old one is left as history
    else:
        record = "none"
        # The reference face may be filed under either spelling of the old number.
        for old in [req.old_id_number, *sorted(forms(req.old_id_number) - {req.old_id_number})]:
            moved = _rowcount(
                s,
                update(IdRecord)
                .where(IdRecord.id_number == old)
                .values(id_number=req.new_id_number)
                .execution_options(synchronize_session=False),
            )
            if moved:
                record = "rekeyed"
                break
    s.flush()
    audit.record(
        s,
        "member.id_number_changed",
        principal.actor,
        f"member:{member.member_id}",
        {
            "request_id": req.request_id,
            "old_id_number": mask(req.old_id_number),
            "new_id_number": mask(req.new_id_number),
            "id_record": record,
        },
    )
    return {"id_record": record}


def _cancel_sessions(svc: Services, member_id: str, actor: str) -> None:
    """Open QR verifications were started against the old number: end them (after the commit)."""
    try:
        signals.member_identity_changed.send(svc, member_id=member_id, actor=actor)
    except Exception:  # the change is committed; a lingering session expires on its own within its TTL
        log.exception("could not cancel open sessions after an ID change", extra={"fields": {"member_id": member_id}})


def _notify(svc: Services, req: ChangeRequest, previous: State | None) -> None:
    webhooks.notify(
        svc.settings,
        f"idchange.{req.state}",
        {
            "request_id": req.request_id,
            "member_id": req.member_id,
            "association": req.association,
            "state": req.state,
            "previous_state": previous.value if previous else None,
            "at": iso_z(req.updated_at),
        },
    )
