"""Repros of issue #9 with no regression test elsewhere (the others are listed in regressions.py).

Each fails on code that has the bug; the ones still open are strict xfails naming the bug, so the
suite turns red (XPASS) the day they are fixed and the mark must go.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import delete, select

from idsvc.core import audit
from idsvc.core.db import AuditEntry, AuditHead
from idsvc.core.services import Services
from tests.hostile.support import assert_error_shape

pytestmark = pytest.mark.integration


def _chunks(raw: bytes) -> Iterator[bytes]:
    yield raw[:3]
    yield raw[3:]


@pytest.mark.parametrize(
    "raw", [b'{"member_id": "B", ', b'{"purpose": "\\ud800"}', b"[1]"], ids=["truncated", "surrogate", "array"]
)
def test_consume_checks_a_chunked_body(live_server: str, platform_key: str, make_member: Any, raw: bytes) -> None:
    make_member()
    created = requests.post(
        f"{live_server}/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": platform_key}, timeout=10
    ).json()
    response = requests.post(
        f"{live_server}/v1/sessions/{created['session_id']}/consume",
        data=_chunks(raw),
        headers={"Authorization": platform_key, "Content-Type": "application/json"},
        timeout=10,
    )
    assert assert_error_shape(response, 400)["code"] == "invalid_json"


@pytest.mark.parametrize(
    "raw", ['{"member_id": "m-1001", "purpose": "\\ud800"}', '{"member_id": "\\udfff"}', "[" * 100_000 + "]" * 100_000]
)
def test_consume_hostile_json_with_content_length(client: Any, platform_key: str, make_member: Any, raw: str) -> None:
    make_member()
    sid = client.post("/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": platform_key}).get_json()[
        "session_id"
    ]
    response = client.post(
        f"/v1/sessions/{sid}/consume",
        data=raw,
        headers={"Authorization": platform_key, "Content-Type": "application/json"},
    )
    assert assert_error_shape(response, 400)["code"] == "invalid_json"


def test_phone_confirm_refuses_deep_json(live_server: str, platform_key: str, make_member: Any) -> None:
    """#9.9: JSON nested 100,000 deep on the /m/ confirm endpoint → 400, not a 500."""
    from tests.qr.phone import Desktop, Phone

    make_member(id_record=True)
    s = Desktop(live_server, platform_key).create()
    phone = Phone("o_deep")
    csrf = Phone.csrf(phone.scan(s["scan_url"]).text)
    response = phone.http.post(
        f"{live_server}/m/sessions/{s['session_id']}/confirm",
        data="[" * 100_000 + "]" * 100_000,
        headers={"X-CSRF-Token": csrf, "Accept": "application/json", "Content-Type": "application/json"},
        timeout=10,
    )
    assert assert_error_shape(response, 400)["code"] == "invalid_json"
    ok = phone.confirm(live_server, s["session_id"], s["match_code"], csrf)
    assert ok.json()["status"] == "confirmed"  # the refused body changed nothing


def test_review_comment_with_a_lone_surrogate(client: Any, make_key: Any) -> None:
    """#9.9: a lone surrogate in a review comment → 400 invalid_json (before any lookup)."""
    response = client.post(
        "/v1/id-changes/nope/review",
        data=json.dumps({"decision": "reject", "comment": "\ud800"}),
        headers={"Authorization": make_key("local", "11"), "Content-Type": "application/json"},
    )
    assert assert_error_shape(response, 400)["code"] == "invalid_json"


def test_truncating_the_audit_chain_is_detected(services: Services) -> None:
    """#9.6: with a checkpoint stored outside the database, cutting the chain back is caught."""
    with services.db.session() as db:
        for i in range(6):
            audit.record(db, "test.event", "tester", f"s{i}", {"i": i})
    with services.db.session() as db:
        outside = audit.checkpoint(db)  # what the operator keeps elsewhere
    with services.db.session() as db:
        keep = db.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()[2]
        db.execute(delete(AuditEntry).where(AuditEntry.seq > keep.seq))
        head = db.get(AuditHead, 1)
        assert head is not None
        head.seq, head.hash = keep.seq, keep.hash
    with services.db.session() as db:
        assert not audit.verify(db, checkpoint=outside).ok
