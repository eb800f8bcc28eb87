"""Races over real HTTP: concurrent decisions and concurrent filings each have exactly one winner."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import requests
from idchange_support import NEW, OLD, Api, Keys, make_id, png_bytes
from sqlalchemy import func, select

from idsvc.core import audit
from idsvc.core.db import IdRecord, Member, MemberIdHistory
from idsvc.core.services import Services
from idsvc.idchange.models import ChangeEvent, ChangeRequest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

THREADS = 8


def _race(calls: list[Callable[[], requests.Response]]) -> list[requests.Response]:
    """Run every call at once (a barrier releases them together) and return the responses in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(isinstance(r, requests.Response) for r in results), results
    return results


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_approve_and_reject(
    live_server: str, api: Api, keys: Keys, enrol: Callable[..., Any], services: Services, round_: int
) -> None:
    enrol()
    rid = api.forwarded()
    url = f"{live_server}/v1/id-changes/{rid}/decision"

    def call(i: int) -> Callable[[], requests.Response]:
        body = {"decision": "approve"} if i % 2 == 0 else {"decision": "reject", "comment": f"reviewer {i} says no"}
        return lambda: requests.post(url, json=body, headers={"Authorization": keys.national}, timeout=60)

    responses = _race([call((i + round_) % THREADS) for i in range(THREADS)])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [409] * (THREADS - 1), [r.text for r in responses]
    assert all(r.json()["error"]["code"] == "invalid_transition" for r in responses if r.status_code == 409)
    winner = next(r.json() for r in responses if r.status_code == 200)

    with services.db.session() as db:
        req = db.get(ChangeRequest, rid)
        decisions = (
            db.execute(select(ChangeEvent).where(ChangeEvent.request_id == rid, ChangeEvent.role == "national"))
            .scalars()
            .all()
        )
        member = db.get(Member, "m-1001")
        history = db.execute(select(func.count()).select_from(MemberIdHistory)).scalar_one()
        new_record = db.get(IdRecord, NEW)
        assert audit.verify(db).ok
    assert req is not None and req.state == winner["state"]
    assert len(decisions) == 1 and decisions[0].to_state == winner["state"]
    if winner["state"] == "approved":
        assert member is not None and member.id_number == NEW and history == 1 and new_record is not None
    else:
        assert member is not None and member.id_number == OLD and history == 0 and new_record is None


def test_concurrent_filings_for_one_member(
    live_server: str, keys: Keys, enrol: Callable[..., Any], services: Services
) -> None:
    enrol()

    def call(i: int) -> Callable[[], requests.Response]:
        # Different proofs and numbers per caller: a loser must leave no blob and no row behind.
        files = {"proof": ("p.png", png_bytes(40, 30, seed=i), "image/png")}
        data = {
            "member_id": "m-1001",
            "new_id_number": make_id("110102", "19900307", f"{i:03d}"),
            "reason": f"第 {i} 次提交",
        }
        return lambda: requests.post(
            f"{live_server}/v1/id-changes", data=data, files=files, headers={"Authorization": keys.platform}, timeout=60
        )

    responses = _race([call(i) for i in range(THREADS)])
    assert sorted(r.status_code for r in responses) == [201] + [409] * (THREADS - 1), [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 409} == {"id_change_open"}
    winner = next(r.json() for r in responses if r.status_code == 201)
    with services.db.session() as db:
        rows = db.execute(select(ChangeRequest)).scalars().all()
    assert [r.request_id for r in rows] == [winner["request_id"]]
    assert services.blobs.digests() == [rows[0].proof_sha256]


def test_concurrent_withdraw_and_forward(
    live_server: str, api: Api, keys: Keys, enrol: Callable[..., Any], services: Services
) -> None:
    enrol()
    rid = api.filed()
    base = f"{live_server}/v1/id-changes/{rid}"
    calls: list[Callable[[], requests.Response]] = []
    for i in range(THREADS):
        if i % 2:
            calls.append(
                lambda: requests.post(f"{base}/withdraw", headers={"Authorization": keys.platform}, timeout=60)
            )
        else:
            calls.append(
                lambda: requests.post(
                    f"{base}/review", json={"decision": "forward"}, headers={"Authorization": keys.local}, timeout=60
                )
            )
    responses = _race(calls)
    ok = [r for r in responses if r.status_code == 200]
    # A forward may be followed by a withdrawal (forwarded is not final); never two of the same move.
    assert 1 <= len(ok) <= 2 and all(r.status_code in (200, 409) for r in responses)
    with services.db.session() as db:
        moves = [
            e.action
            for e in db.execute(
                select(ChangeEvent).where(ChangeEvent.request_id == rid).order_by(ChangeEvent.id)
            ).scalars()
        ]
    assert moves in (["submit", "withdraw"], ["submit", "forward", "withdraw"])
