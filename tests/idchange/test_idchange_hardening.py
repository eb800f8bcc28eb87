"""Review findings #9.7, #9.11 and #9.1 (idchange parts), and the idchange error catalogue (#8.6).

- ID numbers typed into comments and reasons reach the platform, the CLI and the audit log masked,
  however they are written (glued to letters, grouped with spaces or dashes, full-width digits);
  reviewers still read them in full.
- Every time is ISO 8601 UTC with ``Z``, on SQLite too.
- Another association's request and a nonexistent one answer the same 404.
- An optional JSON body sent with ``Transfer-Encoding: chunked`` is read, not skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from idchange_support import NEW, OLD, Api, Keys, error_code, make_id
from sqlalchemy import select

import idsvc.cli
import idsvc.features  # loads every feature's error catalogue
from idsvc.core.db import AuditEntry
from idsvc.core.errors import catalogue
from idsvc.core.idnumber import mask
from idsvc.core.services import Services
from idsvc.idchange.workflow import MAX_COMMENT

pytestmark = pytest.mark.integration

_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _spellings(number: str) -> list[str]:
    """The ways a reviewer may type a number into a comment."""
    grouped = " ".join(number[i : i + 4] for i in range(0, len(number), 4))
    dashed = f"{number[:6]}-{number[6:14]}-{number[14:]}"
    return [f"ID{number}", grouped, dashed, number.translate(_FULLWIDTH)]


def _digits(text: str) -> str:
    """Every digit in ``text``, ASCII, in order (separators and letters dropped)."""
    return "".join(c for c in text.translate(str.maketrans("０１２３４５６７８９", "0123456789")) if c.isdigit())


def _leaks(text: str, *numbers: str) -> list[str]:
    """The numbers whose full digit sequence can be read from ``text``, however it was spelled."""
    compact = _digits(text)
    return [n for n in numbers if n[:17] in compact]


COMMENT = "核对：旧号 " + "，".join(_spellings(OLD)) + "；新号 " + "，".join(_spellings(NEW))
REASON = f"公安机关更正出生日期，原号码{OLD}"


def test_id_numbers_in_comments_and_reasons_are_masked_for_the_platform_and_the_audit_log(
    api: Api, keys: Keys, enrol: Callable[..., Any], services: Services
) -> None:
    enrol()
    rid = api.filed(reason=REASON)
    assert api.review(rid, "forward", COMMENT).status_code == 200
    rejected = api.decide(rid, "reject", COMMENT, key=keys.national)
    assert rejected.status_code == 200, rejected.get_json()

    # Reviewers compare the numbers with the police proof: they read everything as written.
    for key in (keys.local, keys.national):
        view = api.get(f"/v1/id-changes/{rid}", key=key).get_json()
        assert [h["comment"] for h in view["history"]] == ["", COMMENT, COMMENT] and view["reason"] == REASON

    # The platform (and the member portal behind it) never can, in the detail, the list or the CLI.
    platform_view = api.get(f"/v1/id-changes/{rid}").get_json()
    listing = api.get("/v1/id-changes").get_json()
    cli = CliRunner().invoke(idsvc.cli.cli, ["idchange", "show", rid], obj=services)
    assert cli.exit_code == 0, cli.output
    for shown in (json.dumps(platform_view, ensure_ascii=False), json.dumps(listing, ensure_ascii=False), cli.output):
        for number_text in re.findall(r"[0-9０-９Xx \-Ｘ]{15,}", shown):
            assert not _leaks(number_text, OLD, NEW), number_text
    comment = platform_view["history"][1]["comment"]
    assert f"ID{mask(OLD)}" in comment and f"{NEW[:6]}-********-{NEW[14:]}" in comment
    assert comment.count("*") == 8 * 8  # 8 hidden digits in each of the 8 spellings
    assert platform_view["reason"] == f"公安机关更正出生日期，原号码{mask(OLD)}"
    assert listing["items"][0]["reason"] == platform_view["reason"]

    # The audit log stores the comment once per transition, masked; the chain is unaffected.
    with services.db.session() as db:
        entries = db.execute(select(AuditEntry).where(AuditEntry.subject == f"idchange:{rid}")).scalars().all()
        comments = [e.data["comment"] for e in entries if "comment" in e.data]
    assert len(comments) == 2 and all(c == comment for c in comments)
    for stored in comments:
        for number_text in re.findall(r"[0-9０-９Xx \-Ｘ]{15,}", stored):
            assert not _leaks(number_text, OLD, NEW), number_text


def test_ordinary_numbers_in_comments_are_not_masked(api: Api, keys: Keys, enrol: Callable[..., Any]) -> None:
    enrol()
    rid = api.filed()
    note = "户籍证明编号 6222021234567890123，受理单 20250301000123456，电话 010-12345678"
    assert api.review(rid, "forward", note).status_code == 200
    assert api.get(f"/v1/id-changes/{rid}").get_json()["history"][1]["comment"] == note


def _is_utc_z(value: str) -> bool:
    parsed = datetime.fromisoformat(value)
    return value.endswith("Z") and parsed.utcoffset() is not None and parsed.utcoffset().total_seconds() == 0


def test_every_time_is_utc_with_z(api: Api, keys: Keys, enrol: Callable[..., Any]) -> None:
    enrol()
    before = datetime.now(UTC)
    rid = api.forwarded()
    approved = api.decide(rid, "approve").get_json()
    after = datetime.now(UTC)
    listing = api.get("/v1/id-changes", key=keys.national).get_json()
    member = api.get("/v1/members/m-1001").get_json()
    times = [
        approved["created_at"],
        approved["updated_at"],
        *(h["at"] for h in approved["history"]),
        listing["items"][0]["created_at"],
        member["id_record"]["enrolled_at"],
        member["id_history"][0]["changed_at"],
    ]
    assert all(_is_utc_z(t) for t in times), times
    # And they are the right instants (no local-time shift hidden behind the Z).
    filed_at = datetime.fromisoformat(approved["created_at"])
    assert before.replace(microsecond=0) <= filed_at.replace(microsecond=0) <= after


def test_another_associations_request_and_a_nonexistent_one_answer_the_same_404(
    api: Api, keys: Keys, enrol: Callable[..., Any]
) -> None:
    enrol()
    rid = api.filed()
    for path_of in (lambda r: f"/v1/id-changes/{r}", lambda r: f"/v1/id-changes/{r}/proof"):
        other = api.get(path_of(rid), key=keys.local_other)
        missing = api.get(path_of("idc_00000000000000000000"), key=keys.local_other)
        assert other.status_code == missing.status_code == 404
        assert other.get_json() == missing.get_json()
        assert error_code(other) == "id_change_not_found"
    other = api.review(rid, "forward", key=keys.local_other)
    missing = api.review("idc_00000000000000000000", "forward", key=keys.local_other)
    assert other.status_code == missing.status_code == 404 and other.get_json() == missing.get_json()
    assert api.get(f"/v1/id-changes/{rid}").get_json()["state"] == "submitted"


# -- chunked bodies (#9.1) ---------------------------------------------------------------------
def _chunks(body: bytes, size: int = 7) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        yield body[i : i + size]


def _withdraw_chunked(live_server: str, keys: Keys, rid: str, body: bytes, content_type: str) -> requests.Response:
    """POST with ``Transfer-Encoding: chunked`` and no Content-Length (requests does that for a generator)."""
    return requests.post(
        f"{live_server}/v1/id-changes/{rid}/withdraw",
        data=_chunks(body),
        headers={"Authorization": keys.platform, "Content-Type": content_type},
        timeout=30,
    )


def test_withdraw_reads_a_chunked_body(
    api: Api, keys: Keys, enrol: Callable[..., Any], live_server: str, make_member: Callable[..., Any]
) -> None:
    enrol()
    rid = api.filed()
    too_long = json.dumps({"comment": "x" * (MAX_COMMENT + 1)}).encode()
    refused = _withdraw_chunked(live_server, keys, rid, too_long, "application/json")
    assert refused.request.headers.get("Transfer-Encoding") == "chunked"
    assert "Content-Length" not in refused.request.headers
    # Before: the body was skipped (no Content-Length), so this withdrew the request with no comment.
    assert refused.status_code == 400 and refused.json()["error"]["details"]["field"] == "comment"
    not_json = _withdraw_chunked(live_server, keys, rid, b"{not json", "application/json")
    assert not_json.status_code == 400 and not_json.json()["error"]["code"] == "invalid_json"
    assert api.get(f"/v1/id-changes/{rid}").get_json()["state"] == "submitted"

    comment = "会员本人要求撤回，号码 " + OLD
    done = _withdraw_chunked(live_server, keys, rid, json.dumps({"comment": comment}).encode(), "application/json")
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "withdrawn"
    assert done.json()["history"][-1]["comment"] == f"会员本人要求撤回，号码 {mask(OLD)}"

    # No body at all is still fine (the comment is optional).
    make_member(member_id="m-2002", id_number="310104198506121230", association="31")
    rid2 = api.filed("m-2002", make_id("310104", "19850612", "124"))
    empty = requests.post(
        f"{live_server}/v1/id-changes/{rid2}/withdraw", headers={"Authorization": keys.platform}, timeout=30
    )
    assert empty.status_code == 200 and empty.json()["history"][-1]["comment"] == ""


# -- the catalogue (#8.6) ----------------------------------------------------------------------
def test_idchange_codes_are_catalogued_and_documented() -> None:
    owned = {code: spec for code, spec in catalogue().items() if spec.owner == "idchange"}
    assert set(owned) >= {"id_change_not_found", "invalid_transition", "corrupt_proof", "proof_missing"}
    doc = (Path(__file__).parents[2] / "docs" / "idchange.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", doc, flags=re.MULTILINE))
    for code, spec in owned.items():
        assert table.get(code) == str(spec.status), code
    every = catalogue()
    for code, status in table.items():
        assert code in every and str(every[code].status) == status, code


def test_idchange_sources_use_only_catalogued_errors() -> None:
    package = Path(__file__).parents[2] / "idsvc" / "idchange"
    for source in package.glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"\bIdsvcError\(|\b(not_found|forbidden|conflict)\(", text), source.name


def test_a_decompression_bomb_proof_is_refused_quickly(api: Any, enrol: Any) -> None:
    """#9.8: a 231 KB progressive JPEG with 600 repeated scans was a 12.7 s decode as a proof."""
    from tests.factories.documents_hostile import progressive_scan_bomb

    enrol()
    response = api.file(proof=progressive_scan_bomb(), filename="proof.jpg", mimetype="image/jpeg")
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["code"] == "image_too_complex"
