"""Webhooks: HMAC signatures, retries with back-off, and the state changes they announce."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from idchange_support import NEW, OLD, Api, Keys, face_encoding, pdf_proof
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from idsvc.core import webhooks
from idsvc.core.db import IdRecord, Member
from idsvc.core.services import build_services
from idsvc.core.settings import Settings
from idsvc.web.app import create_app

SECRET = "whsec-test-0123456789abcdef"


class Receiver:
    """A real HTTP endpoint on loopback that answers with scripted statuses and keeps what it got."""

    def __init__(self, statuses: list[int] | None = None) -> None:
        self.statuses = list(statuses or [])
        self.calls: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @Request.application  # type: ignore[misc]
    def _app(self, request: Request) -> Response:
        with self.lock:
            self.calls.append({"headers": dict(request.headers), "body": request.get_data(), "at": time.monotonic()})
            status = self.statuses.pop(0) if self.statuses else 200
        return Response("ok", status=status)

    def wait_for(self, n: int, timeout: float = 10) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.calls) >= n:
                    return list(self.calls)
            time.sleep(0.02)
        raise AssertionError(f"got {len(self.calls)} webhook calls, wanted {n}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(statuses: list[int] | None = None) -> Receiver:
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for r in made:
        r.close()


FAST = (0.01, 0.02, 0.04, 0.08, 0.16)


def test_signature_round_trip() -> None:
    body = b'{"event":"idchange.approved"}'
    header = webhooks.signature_header(SECRET, body, now=1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert webhooks.verify(SECRET, header, body, now=1_700_000_100)
    assert not webhooks.verify(SECRET, header, body + b" ", now=1_700_000_100)  # body altered
    assert not webhooks.verify("another-secret", header, body, now=1_700_000_100)
    assert not webhooks.verify(
        SECRET, header, body, now=1_700_000_000 + webhooks.SIGNATURE_TOLERANCE + 1
    )  # replayed late
    assert not webhooks.verify(SECRET, "v1=abc", body) and not webhooks.verify(SECRET, "t=x,v1=abc", body)


def test_retries_until_delivered(receiver: Callable[..., Receiver]) -> None:
    hook = receiver([503, 500, 429, 200])
    sleeps: list[float] = []
    sender = webhooks.WebhookSender(hook.url, SECRET, delays=FAST, sleep=lambda s: (sleeps.append(s), time.sleep(s)))
    result = sender.deliver("idchange.forwarded", {"request_id": "idc_1"})
    assert (result.delivered, result.attempts, result.status) == (True, 4, 200)
    calls = hook.wait_for(4)
    # Same delivery id on every try, each try freshly and correctly signed.
    assert {c["headers"]["X-Idsvc-Delivery"] for c in calls} == {result.delivery_id}
    assert all(webhooks.verify(SECRET, c["headers"]["X-Idsvc-Signature"], c["body"]) for c in calls)
    assert json.loads(calls[0]["body"]) == {
        "event": "idchange.forwarded",
        "delivery_id": result.delivery_id,
        "request_id": "idc_1",
    }
    # Back-off doubles (within the ±20 % jitter).
    assert len(sleeps) == 3 and all(0.8 * d <= s <= 1.2 * d for s, d in zip(sleeps, FAST, strict=False))


def test_client_errors_are_not_retried(receiver: Callable[..., Receiver]) -> None:
    hook = receiver([400])
    result = webhooks.WebhookSender(hook.url, SECRET, delays=FAST).deliver("idchange.approved", {})
    assert (result.delivered, result.attempts, result.status) == (False, 1, 400)


def test_gives_up_after_the_last_retry() -> None:
    result = webhooks.WebhookSender("http://127.0.0.1:9/unreachable", SECRET, delays=FAST, timeout=0.5).deliver(
        "idchange.approved", {}
    )
    assert (result.delivered, result.attempts, result.status) == (False, 1 + len(FAST), None)


def test_no_secret_means_no_webhook() -> None:
    assert webhooks.sender_for(Settings(webhook_url="http://127.0.0.1:9/hook")) is None
    assert webhooks.sender_for(Settings()) is None


@pytest.mark.integration
def test_state_changes_are_announced(settings: Settings, receiver: Callable[..., Receiver], keys: Keys) -> None:
    hook = receiver()
    configured = settings.replace(webhook_url=hook.url, webhook_secret=SECRET)
    svc = build_services(configured)
    try:
        with svc.db.session() as db:
            db.add(Member(member_id="m-1001", name="张三", id_number=OLD, association="11"))
            db.add(IdRecord(id_number=OLD, name="张三", encoding=face_encoding(), source="test"))
        api = Api(create_app(configured, services=svc).test_client(), keys, pdf_proof())
        rid = api.forwarded()
        assert api.decide(rid, "approve").status_code == 200
        calls = hook.wait_for(3)
    finally:
        svc.close()
    events = sorted((json.loads(c["body"])["event"], json.loads(c["body"])["state"]) for c in calls)
    assert events == [
        ("idchange.approved", "approved"),
        ("idchange.forwarded", "forwarded"),
        ("idchange.submitted", "submitted"),
    ]
    for call in calls:
        assert webhooks.verify(SECRET, call["headers"]["X-Idsvc-Signature"], call["body"])
        assert json.loads(call["body"])["request_id"] == rid
        assert OLD.encode() not in call["body"] and NEW.encode() not in call["body"]
