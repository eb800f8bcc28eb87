"""Member status (会员编号, 执业机构, 类别, 状态): read with defaults, change with an audited diff.

Plain Python.  A member without a ``member_profiles`` row is ``practising`` and ``active`` with no
member number or firm (see :mod:`idsvc.certificate.models`).  The portal applies a change here only
once it is approved (a transfer, a qualification change): until then the old values stay, and so
does the certificate, as the procedure requires.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from idsvc.core import audit
from idsvc.core.db import Member, utcnow
from idsvc.core.errors import MEMBER_NOT_FOUND, invalid_input

from .errors import MEMBER_NO_TAKEN
from .models import CATEGORIES, DEFAULT_CATEGORY, DEFAULT_STANDING, STANDINGS, MemberProfile

FIELDS = ("member_no", "firm", "category", "standing")
MAX_MEMBER_NO = 32
MAX_FIRM = 200


@dataclass(frozen=True)
class Status:
    member_id: str
    member_no: str | None
    firm: str | None
    category: str
    standing: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "member_no": self.member_no,
            "firm": self.firm,
            "category": self.category,
            "standing": self.standing,
        }


def get_member(session: Session, member_id: str) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise MEMBER_NOT_FOUND()
    return member


def status_of(session: Session, member_id: str) -> Status:
    row = session.get(MemberProfile, member_id)
    if row is None:
        return Status(member_id, None, None, DEFAULT_CATEGORY, DEFAULT_STANDING)
    return Status(member_id, row.member_no, row.firm, row.category, row.standing)


def clean_changes(body: dict[str, Any]) -> dict[str, str | None]:
    """The recognised fields of a PATCH body, validated (400 ``invalid_input`` naming the field)."""
    unknown = sorted(set(body) - set(FIELDS))
    if unknown:
        raise invalid_input(unknown[0], f"is not a member field (allowed: {', '.join(FIELDS)})", "不是可修改的字段")
    if not body:
        raise invalid_input("body", f"names no field (allowed: {', '.join(FIELDS)})", "未包含任何字段")
    out: dict[str, str | None] = {}
    for name, value in body.items():
        if value is not None and not isinstance(value, str):
            raise invalid_input(name, "must be a string or null", "必须是字符串或 null")
        value = value.strip() if isinstance(value, str) else None
        if name == "category":
            if value not in CATEGORIES:
                raise invalid_input(name, f"must be one of {', '.join(CATEGORIES)}", "取值无效")
        elif name == "standing":
            if value not in STANDINGS:
                raise invalid_input(name, f"must be one of {', '.join(STANDINGS)}", "取值无效")
        elif name == "member_no":
            if value is not None and (
                not value or len(value) > MAX_MEMBER_NO or not value.isascii() or not value.isalnum()
            ):
                raise invalid_input(
                    name, f"must be 1-{MAX_MEMBER_NO} ASCII letters or digits", "应为 1–32 位字母或数字"
                )
        elif name == "firm" and value is not None and (not value or len(value) > MAX_FIRM):
            raise invalid_input(name, f"must be 1-{MAX_FIRM} characters", f"应为 1–{MAX_FIRM} 个字符")
        out[name] = value
    return out


def set_status(
    session: Session, member_id: str, changes: dict[str, str | None], *, actor: str
) -> tuple[Status, dict[str, Any]]:
    """Apply validated ``changes``; audit ``member.status_changed`` with old and new values.

    Returns the new status and the diff (``{field: {"old", "new"}}``; empty when nothing changed,
    which is then not audited).  409 ``member_no_taken`` if another member has the number.
    """
    get_member(session, member_id)
    row = session.get(MemberProfile, member_id, with_for_update=True)
    if row is None:
        row = MemberProfile(member_id=member_id, category=DEFAULT_CATEGORY, standing=DEFAULT_STANDING, updated_by=actor)
        session.add(row)
    before = Status(member_id, row.member_no, row.firm, row.category, row.standing).to_dict()
    no = changes.get("member_no")
    if "member_no" in changes and no is not None and no != row.member_no:
        other = session.scalars(select(MemberProfile.member_id).where(MemberProfile.member_no == no)).first()
        if other is not None and other != member_id:
            raise MEMBER_NO_TAKEN({"member_no": no})
    diff: dict[str, Any] = {}
    for name, value in changes.items():
        if before[name] != value:
            diff[name] = {"old": before[name], "new": value}
            setattr(row, name, value)
    if diff:
        row.updated_by = actor
        row.updated_at = utcnow()
        session.flush()
        audit.record(session, "member.status_changed", actor, f"member:{member_id}", {"changes": diff})
    return status_of(session, member_id), diff
