"""The full workflow over HTTP with three keys, its effects on the member, and the audit chain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from idchange_support import (
    NEW,
    OLD,
    Api,
    Keys,
    cli_env,
    error_code,
    face_encoding,
    make_id,
    run_cli,
)
from sqlalchemy import select, text

from idsvc.core import audit
from idsvc.core.db import AuditEntry, IdRecord, Member, MemberIdHistory
from idsvc.core.idnumber import to_15, to_18
from idsvc.core.logs import mask_id_number
from idsvc.core.services import Services

pytestmark = pytest.mark.integration


def _id_record(services: Services, number: str) -> IdRecord | None:
    with services.db.session() as db:
        return db.get(IdRecord, number)


def test_happy_path(
    api: Api, keys: Keys, enrol: Callable[..., Any], services: Services, proof_files: dict[str, bytes]
) -> None:
    enrol()
    # Before: the reference face is filed under the old number only, so a verification against the
    # member's current card (the new number) finds no ID record.
    assert _id_record(services, NEW) is None and _id_record(services, OLD) is not None
    before = api.get("/v1/members/m-1001").get_json()
    assert before["id_number"] == mask_id_number(OLD) == "110101********8515"
    assert before["id_record"]["enrolled"] is True and before["open_id_change"] is None

    filed = api.file(proof=proof_files["jpeg"], filename="proof.pdf", mimetype="application/pdf")
    assert filed.status_code == 201, filed.get_json()
    body = filed.get_json()
    rid = body["request_id"]
    assert body["state"] == "submitted" and body["final"] is False
    # The platform never sees full numbers, nor the proof itself; the type came from the bytes.
    assert body["old_id_number"] == mask_id_number(OLD) and body["new_id_number"] == mask_id_number(NEW)
    assert body["proof"] == {"mime": "image/jpeg", "size": len(proof_files["jpeg"])}
    assert OLD not in filed.get_data(as_text=True) and NEW not in filed.get_data(as_text=True)
    assert api.get("/v1/members/m-1001").get_json()["open_id_change"] == {"request_id": rid, "state": "submitted"}

    local_view = api.get(f"/v1/id-changes/{rid}", key=keys.local).get_json()
    assert (local_view["old_id_number"], local_view["new_id_number"]) == (OLD, NEW)
    proof = api.get(f"/v1/id-changes/{rid}/proof", key=keys.local)
    assert proof.status_code == 200 and proof.data == proof_files["jpeg"] and proof.mimetype == "image/jpeg"
    assert proof.headers["X-Content-Type-Options"] == "nosniff" and "attachment" in proof.headers["Content-Disposition"]

    forwarded = api.review(rid, "forward", "材料齐全，同意上报")
    assert forwarded.status_code == 200 and forwarded.get_json()["state"] == "forwarded"

    assert api.get(f"/v1/id-changes/{rid}/proof", key=keys.national).data == proof_files["jpeg"]
    approved = api.decide(rid, "approve", "同意变更")
    assert approved.status_code == 200, approved.get_json()
    result = approved.get_json()
    assert result["state"] == "approved" and result["final"] is True and result["id_record"] == "rekeyed"
    assert [(h["action"], h["from_state"], h["to_state"], h["role"]) for h in result["history"]] == [
        ("submit", None, "submitted", "platform"),
        ("forward", "submitted", "forwarded", "local"),
        ("approve", "forwarded", "approved", "national"),
    ]
    assert [h["comment"] for h in result["history"]] == ["", "材料齐全，同意上报", "同意变更"]
    assert all(h["at"] for h in result["history"])

    # After: the member holds the new number, the old one is history, the same face resolves under the new number.
    member = api.get("/v1/members/m-1001").get_json()
    assert member["id_number"] == mask_id_number(NEW) and member["id_record"]["enrolled"] is True
    assert member["open_id_change"] is None
    assert [(h["old_id_number"], h["new_id_number"], h["change_request_id"]) for h in member["id_history"]] == [
        (mask_id_number(OLD), mask_id_number(NEW), rid)
    ]
    record = _id_record(services, NEW)
    assert record is not None and record.encoding == face_encoding() and record.name == "张三"
    assert _id_record(services, OLD) is None
    with services.db.session() as db:
        assert db.get(Member, "m-1001").id_number == NEW  # type: ignore[union-attr]
        assert db.execute(select(MemberIdHistory.old_id_number)).scalars().all() == [OLD]

    listing = api.get("/v1/id-changes", key=keys.national, state="approved").get_json()
    assert [i["request_id"] for i in listing["items"]] == [rid] and listing["total"] == 1


def test_every_transition_is_audited_without_full_numbers(
    api: Api, enrol: Callable[..., Any], services: Services
) -> None:
    enrol()
    rid = api.forwarded()
    assert api.decide(rid, "approve").status_code == 200
    rid2 = api.filed(new_id_number=make_id("110105", "19900307", "851"))
    assert api.review(rid2, "reject", f"证明与号码 {make_id('110105', '19900307', '851')} 不符").status_code == 200
    with services.db.session() as db:
        rows = db.execute(select(AuditEntry).order_by(AuditEntry.seq)).scalars().all()
        report = audit.verify(db)
    assert report.ok
    events = [(r.event, r.subject) for r in rows if r.subject.startswith(("idchange:", "member:"))]
    assert events == [
        ("idchange.submitted", f"idchange:{rid}"),
        ("idchange.forwarded", f"idchange:{rid}"),
        ("member.id_number_changed", "member:m-1001"),
        ("idchange.approved", f"idchange:{rid}"),
        ("idchange.submitted", f"idchange:{rid2}"),
        ("idchange.rejected", f"idchange:{rid2}"),
    ]
    actors = {r.event: r.actor for r in rows}
    assert actors["idchange.submitted"] == "platform:portal" and actors["idchange.approved"] == "national:cas"
    dumped = json.dumps([r.data for r in rows], ensure_ascii=False)
    for full in (OLD, NEW, make_id("110105", "19900307", "851")):
        assert full not in dumped
    assert mask_id_number(make_id("110105", "19900307", "851")) in dumped  # the rejection comment, scrubbed


def test_audit_verify_catches_a_tampered_transition(
    api: Api, enrol: Callable[..., Any], services: Services, settings: Any
) -> None:
    enrol()
    rid = api.forwarded()
    assert api.decide(rid, "reject", "证明文件不清晰").status_code == 200
    env = cli_env(settings)
    ok = run_cli(env, "audit", "verify")
    assert ok.returncode == 0, ok.stderr
    assert "intact" in ok.stdout
    with services.db.session() as db:
        seq = db.execute(select(AuditEntry.seq).where(AuditEntry.event == "idchange.forwarded")).scalar_one()
        # An insider rewrites who forwarded the request.
        db.execute(text("UPDATE audit_log SET actor = 'local:someone-else' WHERE seq = :seq"), {"seq": seq})
    broken = run_cli(env, "audit", "verify")
    assert broken.returncode == 1
    assert f"BROKEN at entry {seq}" in broken.stderr


def test_classic_15_to_18_change(api: Api, keys: Keys, enrol: Callable[..., Any], services: Services) -> None:
    legacy = "110101900307851"
    enrol("m-legacy", legacy)
    member = api.get("/v1/members/m-legacy").get_json()
    assert member["id_number_format"] == "legacy_15" and member["id_number"] == "110101*****7851"
    # A record only ever moves to 18 digits: the 15-digit form is refused, naming the rule; its 18-digit form is the change.
    refused = api.file("m-legacy", legacy).get_json()["error"]
    assert (refused["code"], refused["details"]) == (
        "invalid_id_number",
        {"rule": "legacy_format", "field": "new_id_number"},
    )
    rid = api.filed("m-legacy", to_18(legacy))
    assert api.get(f"/v1/id-changes/{rid}", key=keys.local).get_json()["new_id_number"] == to_18(legacy)
    assert api.review(rid, "forward").status_code == 200
    assert api.decide(rid, "approve").get_json()["id_record"] == "rekeyed"
    assert _id_record(services, to_18(legacy)) is not None and _id_record(services, legacy) is None
    assert api.get("/v1/members/m-legacy").get_json()["id_number_format"] == "18"


def test_existing_record_for_the_new_number_is_kept(api: Api, enrol: Callable[..., Any], services: Services) -> None:
    enrol()
    with services.db.session() as db:
        db.add(IdRecord(id_number=NEW, name="张三", encoding=face_encoding(99), source="police-photo"))
    rid = api.forwarded()
    assert api.decide(rid, "approve").get_json()["id_record"] == "kept_existing"
    assert _id_record(services, NEW).encoding == face_encoding(99)  # type: ignore[union-attr]
    assert _id_record(services, OLD).encoding == face_encoding(7)  # type: ignore[union-attr]


def test_member_without_reference_face(api: Api, make_member: Callable[..., Any]) -> None:
    make_member()
    rid = api.forwarded()
    assert api.decide(rid, "approve").get_json()["id_record"] == "none"
    assert api.get("/v1/members/m-1001").get_json()["id_record"]["enrolled"] is False


def test_approval_cancels_open_verification_sessions(api: Api, keys: Keys, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.forwarded()
    created = api.client.post("/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": keys.platform})
    assert created.status_code == 201, created.get_json()
    sid = created.get_json()["session_id"]
    assert api.get(f"/v1/sessions/{sid}").get_json()["status"] == "pending"
    assert api.decide(rid, "approve").status_code == 200
    assert api.get(f"/v1/sessions/{sid}").get_json()["status"] == "cancelled"


def test_rejection_leaves_the_member_alone(api: Api, enrol: Callable[..., Any], services: Services) -> None:
    enrol()
    rid = api.forwarded()
    assert api.decide(rid, "reject", "与公安证明不一致").get_json()["state"] == "rejected"
    assert _id_record(services, OLD) is not None and _id_record(services, NEW) is None
    member = api.get("/v1/members/m-1001").get_json()
    assert member["id_number"] == mask_id_number(OLD) and member["id_history"] == []
    # A final request no longer blocks a new one.
    assert api.file().status_code == 201


def test_withdraw_then_refile(api: Api, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.forwarded()
    withdrawn = api.withdraw(rid, comment="会员撤回")
    assert withdrawn.status_code == 200 and withdrawn.get_json()["state"] == "withdrawn"
    assert withdrawn.get_json()["history"][-1]["comment"] == "会员撤回"
    assert api.file().status_code == 201


def test_legacy_number_held_elsewhere_counts_as_taken(api: Api, enrol: Callable[..., Any]) -> None:
    enrol()
    other_18 = make_id("310104", "19850612", "123")
    enrol("m-2002", to_15(other_18), association="31", seed=8)
    response = api.file(new_id_number=other_18)
    assert response.status_code == 409 and error_code(response) == "id_number_taken"
