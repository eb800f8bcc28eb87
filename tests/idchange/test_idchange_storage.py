"""Proof blobs and rows: the blob is written before its row commits; a failed commit leaves no orphan."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from idchange_support import NEW, Api, error_code, make_id, pdf_proof
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from idsvc.core.db import utcnow
from idsvc.core.services import Services
from idsvc.idchange.models import ChangeRequest

pytestmark = pytest.mark.integration


@pytest.fixture
def failing_commit(services: Services) -> Iterator[Callable[[], None]]:
    """Install a database trigger that makes the commit of a filing whose reason is ``FAIL`` fail.

    It fires when the commit flushes the audit chain head, i.e. after the proof blob was written:
    a real database failure at the worst moment, not a mock of the code under test.
    """
    engine = services.db.engine
    sqlite = engine.dialect.name == "sqlite"

    def install() -> None:
        with engine.begin() as conn:
            if sqlite:
                conn.exec_driver_sql(
                    "CREATE TRIGGER idchange_fail BEFORE UPDATE ON audit_head "
                    "WHEN EXISTS (SELECT 1 FROM id_change_requests WHERE reason = 'FAIL') "
                    "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                )
            else:
                conn.exec_driver_sql(
                    "CREATE OR REPLACE FUNCTION idchange_fail() RETURNS trigger AS $$ BEGIN "
                    "IF EXISTS (SELECT 1 FROM id_change_requests WHERE reason = 'FAIL') THEN RAISE EXCEPTION 'injected failure'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
                conn.exec_driver_sql(
                    "CREATE TRIGGER idchange_fail BEFORE UPDATE ON audit_head FOR EACH ROW EXECUTE FUNCTION idchange_fail()"
                )

    yield install
    with engine.begin() as conn:
        if sqlite:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS idchange_fail")
        else:
            conn.exec_driver_sql("DROP TRIGGER IF EXISTS idchange_fail ON audit_head")
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS idchange_fail()")


def _rows(services: Services) -> int:
    with services.db.session() as db:
        return db.execute(select(func.count()).select_from(ChangeRequest)).scalar_one()


def test_failed_commit_removes_the_new_blob(
    api: Api, enrol: Callable[..., Any], services: Services, failing_commit: Callable[[], None]
) -> None:
    enrol()
    failing_commit()
    proof = pdf_proof("唯一的证明文件")
    response = api.file(proof=proof, reason="FAIL")
    assert response.status_code == 500 and error_code(response) == "internal_error"
    assert _rows(services) == 0
    assert services.blobs.digests() == []


def test_failed_commit_keeps_a_blob_another_request_uses(
    api: Api, enrol: Callable[..., Any], services: Services, failing_commit: Callable[[], None]
) -> None:
    enrol()
    enrol("m-2002", make_id("110101", "19800101", "002"), seed=8)
    shared = pdf_proof("两位会员提交了同一份证明")
    first = api.filed(proof=shared)
    failing_commit()
    response = api.file("m-2002", make_id("110101", "19800101", "010"), proof=shared, reason="FAIL")
    assert response.status_code == 500
    assert _rows(services) == 1
    with services.db.session() as db:
        digest = db.get(ChangeRequest, first).proof_sha256  # type: ignore[union-attr]
    assert services.blobs.digests() == [digest]
    assert api.get(f"/v1/id-changes/{first}/proof", key=api.keys.national).data == shared


def test_failed_commit_keeps_a_blob_that_a_committed_row_references(
    api: Api, enrol: Callable[..., Any], services: Services, failing_commit: Callable[[], None]
) -> None:
    """The blob was lost from disk; a later filing of the same bytes writes it again and, failing, must not delete it."""
    enrol()
    enrol("m-2002", make_id("110101", "19800101", "002"), seed=8)
    shared = pdf_proof("丢失后重新上传的证明")
    first = api.filed(proof=shared)
    [digest] = services.blobs.digests()
    services.blobs.delete(digest)
    failing_commit()
    assert api.file("m-2002", make_id("110101", "19800101", "010"), proof=shared, reason="FAIL").status_code == 500
    assert services.blobs.digests() == [digest]
    assert api.get(f"/v1/id-changes/{first}/proof", key=api.keys.national).data == shared


def test_the_database_allows_one_open_request_per_member(enrol: Callable[..., Any], services: Services) -> None:
    """The partial unique index itself, on this engine: a second open row fails, a final one does not."""
    enrol()

    def row(rid: str, state: str) -> ChangeRequest:
        now = utcnow()
        return ChangeRequest(
            request_id=rid,
            member_id="m-1001",
            association="11",
            old_id_number="x",
            new_id_number=NEW,
            reason="r",
            state=state,
            proof_sha256="0" * 64,
            proof_mime="application/pdf",
            proof_size=1,
            filed_by="t",
            created_at=now,
            updated_at=now,
        )

    with services.db.session() as db:
        db.add_all([row("a", "submitted"), row("b", "withdrawn"), row("c", "rejected")])
    with pytest.raises(IntegrityError), services.db.session() as db:
        db.add(row("d", "forwarded"))
    with services.db.session() as db:
        db.execute(text("UPDATE id_change_requests SET state = 'approved' WHERE request_id = 'a'"))
        db.add(row("e", "submitted"))
    assert _rows(services) == 4


def test_proof_missing_from_storage_is_reported(api: Api, enrol: Callable[..., Any], services: Services) -> None:
    enrol()
    rid = api.filed()
    with services.db.session() as db:
        digest = db.get(ChangeRequest, rid).proof_sha256  # type: ignore[union-attr]
    services.blobs.path(digest).write_bytes(b"%PDF-1.4 altered")
    altered = api.get(f"/v1/id-changes/{rid}/proof", key=api.keys.national)
    assert (altered.status_code, error_code(altered)) == (500, "proof_missing")
    services.blobs.delete(digest)
    assert error_code(api.get(f"/v1/id-changes/{rid}/proof", key=api.keys.national)) == "proof_missing"
