"""What the workflow refuses over HTTP: roles, regions, states, ID numbers, proofs."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from idchange_support import (
    NEW,
    OLD,
    OTHER,
    Api,
    Keys,
    error_code,
    make_id,
    pdf_proof,
    png_bytes,
)
from sqlalchemy import func, select

from idsvc.core.services import Services
from idsvc.idchange.models import ChangeEvent, ChangeRequest

pytestmark = pytest.mark.integration


def _counts(services: Services) -> tuple[int, int, int]:
    with services.db.session() as db:
        requests = db.execute(select(func.count()).select_from(ChangeRequest)).scalar_one()
        events = db.execute(select(func.count()).select_from(ChangeEvent)).scalar_one()
    return requests, events, len(services.blobs.digests())


# -- roles and regions ------------------------------------------------------------------------
def test_wrong_roles_get_403(api: Api, keys: Keys, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.filed()
    calls = [
        api.file(key=keys.local),
        api.file(key=keys.national),
        api.review(rid, "forward", key=keys.platform),
        api.review(rid, "forward", key=keys.national),
        api.decide(rid, "approve", key=keys.platform),
        api.decide(rid, "approve", key=keys.local),
        api.withdraw(rid, key=keys.local),
        api.withdraw(rid, key=keys.national),
        api.get(f"/v1/id-changes/{rid}/proof", key=keys.platform),
    ]
    assert [(r.status_code, error_code(r)) for r in calls] == [(403, "wrong_role")] * len(calls)
    # Reviewers may read a member of their scope (#16: they see its face-verification lock).
    assert api.get("/v1/members/m-1001", key=keys.local).status_code == 200
    assert api.get("/v1/members/m-1001", key=keys.national).status_code == 200
    assert api.get("/v1/members/m-1001", key=keys.local_other).status_code == 404
    assert api.get(f"/v1/id-changes/{rid}").get_json()["state"] == "submitted"


def test_missing_or_bad_key_gets_401(api: Api, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.filed()
    for response in (
        api.client.get(f"/v1/id-changes/{rid}"),
        api.client.post(f"/v1/id-changes/{rid}/withdraw"),
        api.get("/v1/id-changes", key="Bearer idsvc_000000000000_wrong"),
    ):
        assert (response.status_code, error_code(response)) == (401, "unauthorized")


def test_local_reviewer_of_another_region_sees_nothing(api: Api, keys: Keys, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.filed()
    other = keys.local_other
    for response in (
        api.get(f"/v1/id-changes/{rid}", key=other),
        api.get(f"/v1/id-changes/{rid}/proof", key=other),
        api.review(rid, "forward", key=other),
        api.review(rid, "reject", "不同意", key=other),
    ):
        assert (response.status_code, error_code(response)) == (404, "id_change_not_found")
    assert api.get("/v1/id-changes", key=other).get_json()["items"] == []
    asked = api.get("/v1/id-changes", key=other, association="11")
    assert (asked.status_code, error_code(asked)) == (403, "association_out_of_scope")
    # Untouched: the member's own region can still forward it.
    assert api.review(rid, "forward").status_code == 200


def test_unknown_request_and_member(api: Api, keys: Keys, enrol: Callable[..., Any]) -> None:
    enrol()
    for response in (
        api.get("/v1/id-changes/idc_nope", key=keys.national),
        api.decide("idc_nope", "approve"),
        api.withdraw("x" * 300),
    ):
        assert (response.status_code, error_code(response)) == (404, "id_change_not_found")
    assert error_code(api.get("/v1/members/nobody")) == "member_not_found"
    missing = api.file("nobody")
    assert (missing.status_code, error_code(missing)) == (404, "member_not_found")


# -- states ------------------------------------------------------------------------------------
def test_forbidden_transitions_get_409(api: Api, enrol: Callable[..., Any]) -> None:
    enrol()
    submitted = api.filed()
    assert (api.decide(submitted, "approve").status_code, api.decide(submitted, "reject", "x").status_code) == (
        409,
        409,
    )
    assert api.review(submitted, "forward").status_code == 200
    forwarded = submitted
    assert error_code(api.review(forwarded, "forward")) == "invalid_transition"
    assert api.review(forwarded, "reject", "晚了").status_code == 409
    assert api.decide(forwarded, "approve").status_code == 200
    approved = forwarded
    details = api.withdraw(approved).get_json()["error"]["details"]
    assert details == {"state": "approved", "action": "withdraw"}
    for response in (
        api.decide(approved, "approve"),
        api.decide(approved, "reject", "x"),
        api.review(approved, "forward"),
    ):
        assert (response.status_code, error_code(response)) == (409, "invalid_transition")


def test_final_states_refuse_everything(api: Api, enrol: Callable[..., Any]) -> None:
    enrol()
    rejected = api.filed()
    assert api.review(rejected, "reject", "证明不全").status_code == 200
    withdrawn = api.filed()
    assert api.withdraw(withdrawn).status_code == 200
    for rid in (rejected, withdrawn):
        for response in (api.review(rid, "forward"), api.decide(rid, "approve"), api.withdraw(rid)):
            assert (response.status_code, error_code(response)) == (409, "invalid_transition")


def test_rejections_need_a_comment_and_bodies_are_checked(api: Api, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.filed()
    assert error_code(api.review(rid, "reject")) == "comment_required"
    assert error_code(api.review(rid, "reject", "  ")) == "comment_required"
    assert error_code(api.review(rid, "approve")) == "invalid_input"
    assert (
        error_code(
            api.client.post(f"/v1/id-changes/{rid}/review", data="forward", headers={"Authorization": api.keys.local})
        )
        == "invalid_json"
    )
    assert api.review(rid, "forward").status_code == 200
    assert error_code(api.decide(rid, "reject")) == "comment_required"
    assert error_code(api.decide(rid, "forward")) == "invalid_input"
    assert api.get(f"/v1/id-changes/{rid}").get_json()["state"] == "forwarded"


def test_one_open_request_per_member(api: Api, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.filed()
    again = api.file(new_id_number=make_id("110105", "19900307", "851"))
    assert (again.status_code, error_code(again)) == (409, "id_change_open")
    assert again.get_json()["error"]["details"] == {"request_id": rid}


def test_number_taken_after_filing_blocks_approval(
    api: Api, enrol: Callable[..., Any], make_member: Callable[..., Any]
) -> None:
    enrol()
    rid = api.forwarded()
    make_member(member_id="m-late", id_number=NEW)  # e.g. added by `idsvc member add` meanwhile
    refused = api.decide(rid, "approve")
    assert (refused.status_code, error_code(refused)) == (409, "id_number_taken")
    assert api.get(f"/v1/id-changes/{rid}").get_json()["state"] == "forwarded"  # rolled back whole
    assert api.decide(rid, "reject", "号码已被占用").status_code == 200


# -- ID numbers --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("new_id_number", "rule"),
    [
        ("110102199003078512", "check_digit"),
        ("11010219900307851", "length"),
        ("11010219900307851Y", "format"),
        ("990102199003078511", "region"),
        ("110102199002308510", "birth_date"),
        ("110102209901018510", "birth_date"),
        ("110102900307851", "legacy_format"),
    ],
)
def test_invalid_numbers_name_the_rule(
    api: Api, enrol: Callable[..., Any], services: Services, new_id_number: str, rule: str
) -> None:
    enrol()
    response = api.file(new_id_number=new_id_number)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_id_number" and error["details"] == {"rule": rule, "field": "new_id_number"}
    assert error["message"] and error["message_en"]
    assert new_id_number not in response.get_data(as_text=True)
    assert _counts(services) == (0, 0, 0)


def test_numbers_are_normalised(api: Api, keys: Keys, enrol: Callable[..., Any]) -> None:
    enrol()
    with_x = "11010519491231002X"  # the example printed in GB 11643-1999
    assert with_x.endswith("X")
    rid = api.filed(new_id_number=" " + with_x[:6] + " " + with_x[6:].lower() + "\n")
    assert api.get(f"/v1/id-changes/{rid}", key=keys.national).get_json()["new_id_number"] == with_x


def test_equal_and_taken_numbers(api: Api, enrol: Callable[..., Any], services: Services) -> None:
    enrol()
    enrol("m-2002", OTHER, association="31", seed=8)
    same = api.file(new_id_number=OLD.lower())
    assert (same.status_code, error_code(same)) == (400, "id_number_unchanged")
    taken = api.file(new_id_number=OTHER)
    assert (taken.status_code, error_code(taken)) == (409, "id_number_taken")
    assert OTHER not in taken.get_data(as_text=True)
    assert _counts(services) == (0, 0, 0)


# -- proofs ------------------------------------------------------------------------------------
def test_each_proof_type_is_stored_as_sniffed(
    api: Api, keys: Keys, make_member: Callable[..., Any], proof_files: dict[str, bytes], services: Services
) -> None:
    for i, (kind, data) in enumerate(proof_files.items()):
        make_member(member_id=f"m-{i}", id_number=make_id("110101", "19800101", f"{i:03d}"))
        # The client's filename and content type are ignored: only the bytes count.
        rid = api.filed(
            f"m-{i}",
            make_id("110101", "19800102", f"{i:03d}"),
            proof=data,
            filename="x.exe",
            mimetype="application/octet-stream",
        )
        proof = api.get(f"/v1/id-changes/{rid}/proof", key=keys.national)
        assert (
            proof.data == data
            and proof.mimetype == {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png"}[kind]
        )
    assert len(services.blobs.digests()) == 3


@pytest.mark.parametrize(
    ("make_proof", "status", "code"),
    [
        (lambda files: png_bytes(1875, 1875, compress_level=0), 413, "payload_too_large"),
        (lambda files: b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), 413, "payload_too_large"),
        (lambda files: b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", 415, "unsupported_proof_type"),
        (lambda files: "身份证变更证明".encode(), 415, "unsupported_proof_type"),
        (lambda files: files["jpeg"][:5000], 400, "corrupt_proof"),
        (lambda files: pdf_proof()[:-300], 400, "corrupt_proof"),
        (lambda files: b"", 400, "empty_proof"),
    ],
)
def test_bad_proofs(
    api: Api,
    enrol: Callable[..., Any],
    services: Services,
    proof_files: dict[str, bytes],
    make_proof: Callable[[dict[str, bytes]], bytes],
    status: int,
    code: str,
) -> None:
    enrol()
    response = api.file(proof=make_proof(proof_files))
    assert (response.status_code, error_code(response)) == (status, code)
    assert _counts(services) == (0, 0, 0)


def test_form_problems(api: Api, enrol: Callable[..., Any], keys: Keys) -> None:
    enrol()
    auth = {"Authorization": keys.platform}
    as_json = api.client.post("/v1/id-changes", json={"member_id": "m-1001"}, headers=auth)
    assert (as_json.status_code, error_code(as_json)) == (415, "multipart_required")
    no_file = api.client.post(
        "/v1/id-changes",
        data={"member_id": "m-1001", "new_id_number": NEW, "reason": "x"},
        content_type="multipart/form-data",
        headers=auth,
    )
    assert (no_file.status_code, error_code(no_file)) == (400, "invalid_input")
    assert no_file.get_json()["error"]["details"]["field"] == "proof"
    no_reason = api.client.post(
        "/v1/id-changes",
        data={"member_id": "m-1001", "new_id_number": NEW, "proof": (io.BytesIO(pdf_proof()), "p.pdf")},
        content_type="multipart/form-data",
        headers=auth,
    )
    assert no_reason.get_json()["error"]["details"]["field"] == "reason"
    long_reason = api.file(reason="因" * 501)
    assert long_reason.get_json()["error"]["details"]["field"] == "reason"


# -- reads -------------------------------------------------------------------------------------
def test_listing_filters_scope_and_pages(api: Api, keys: Keys, make_member: Callable[..., Any]) -> None:
    ids = {}
    for i, assoc in enumerate(["11", "11", "11", "31", "31"]):
        make_member(member_id=f"m-{i}", id_number=make_id(f"{assoc}0101", "19800101", f"{i:03d}"), association=assoc)
        ids[i] = api.filed(f"m-{i}", make_id(f"{assoc}0101", "19800102", f"{i:03d}"))
    assert api.review(ids[0], "forward").status_code == 200

    everything = api.get("/v1/id-changes", key=keys.national, limit=2).get_json()
    assert (everything["total"], len(everything["items"]), everything["next_offset"]) == (5, 2, 2)
    seen = [i["request_id"] for i in everything["items"]]
    offset = everything["next_offset"]
    while offset is not None:
        page = api.get("/v1/id-changes", key=keys.national, limit=2, offset=offset).get_json()
        seen += [i["request_id"] for i in page["items"]]
        offset = page["next_offset"]
    assert sorted(seen) == sorted(ids.values())
    assert [i["request_id"] for i in api.get("/v1/id-changes", key=keys.national).get_json()["items"]] == [
        ids[i] for i in (4, 3, 2, 1, 0)
    ]

    local = api.get("/v1/id-changes", key=keys.local).get_json()
    assert {i["association"] for i in local["items"]} == {"11"} and local["total"] == 3
    assert api.get("/v1/id-changes", key=keys.local_other).get_json()["total"] == 2
    assert [
        i["request_id"] for i in api.get("/v1/id-changes", key=keys.local, state="forwarded").get_json()["items"]
    ] == [ids[0]]
    assert api.get("/v1/id-changes", key=keys.national, association="31", state="submitted").get_json()["total"] == 2
    assert [i["request_id"] for i in api.get("/v1/id-changes", member_id="m-3").get_json()["items"]] == [ids[3]]
    platform_items = api.get("/v1/id-changes").get_json()["items"]
    assert all("*" in i["new_id_number"] and "url" not in i["proof"] for i in platform_items)

    for params in ({"state": "open"}, {"limit": 0}, {"limit": 101}, {"offset": -1}, {"limit": "x"}):
        bad = api.get("/v1/id-changes", **params)
        assert (bad.status_code, error_code(bad)) == (400, "invalid_input")


def test_every_route_is_in_the_openapi_document(app: Any) -> None:
    from idsvc.web.openapi import build

    paths = build(app)["paths"]
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("idchange."):
            path = rule.rule.replace("<", "{").replace(">", "}")
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                assert method.lower() in paths[path], (method, path)
