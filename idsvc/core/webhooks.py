"""Outgoing webhooks: HMAC-signed JSON POSTs, retried with exponential back-off.

Each delivery carries::

    X-Idsvc-Event: idchange.approved
    X-Idsvc-Delivery: <uuid, the same on every retry, so receivers can de-duplicate>
    X-Idsvc-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>." + body)>

Receivers recompute the HMAC over the raw body and reject stale timestamps (see :func:`verify`),
the same scheme Stripe and GitHub use.  Delivery is best effort and in-process: the SQL rows
stay the source of truth, and a portal that missed a call can list ``GET /v1/id-changes``.
Payloads never carry ID numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Idsvc-Signature"
# Waits before retries 1..5: about 31 s in all, enough to ride out a portal restart.
RETRY_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0)
REQUEST_TIMEOUT = 5.0
# Receivers should refuse signatures older than this (replay window).
SIGNATURE_TOLERANCE = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, now: float | None = None) -> str:
    timestamp = int(time.time() if now is None else now)
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(
    secret: str, header: str, body: bytes, *, now: float | None = None, tolerance: int = SIGNATURE_TOLERANCE
) -> bool:
    """True if ``header`` is a fresh, correct signature of ``body`` (for receivers and tests)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > tolerance:
        return False
    return hmac.compare_digest(parts.get("v1", ""), sign(secret, timestamp, body))


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    attempts: int
    status: int | None
    delivery_id: str


def _retryable(status: int | None) -> bool:
    # No answer, rate-limited or a server error may pass on a later try; other 4xx will not.
    return status is None or status == 429 or status >= 500


@dataclass
class WebhookSender:
    url: str
    secret: str
    delays: Sequence[float] = RETRY_DELAYS
    timeout: float = REQUEST_TIMEOUT
    sleep: Callable[[float], None] = time.sleep

    def deliver(self, event: str, payload: dict[str, Any]) -> DeliveryResult:
        """POST until a 2xx, a non-retryable answer, or the retries run out (blocking)."""
        delivery_id = str(uuid.uuid4())
        body = json.dumps(
            {"event": event, "delivery_id": delivery_id, **payload}, ensure_ascii=False, sort_keys=True
        ).encode()
        status: int | None = None
        attempts = 0
        for attempt, delay in enumerate((0.0, *self.delays)):
            if delay:
                # ±20 % jitter, so many deliveries failing together do not retry in lock-step.
                self.sleep(delay * random.uniform(0.8, 1.2))
            attempts = attempt + 1
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "idsvc-webhook/1",
                "X-Idsvc-Event": event,
                "X-Idsvc-Delivery": delivery_id,
                SIGNATURE_HEADER: signature_header(self.secret, body),
            }
            try:
                status = requests.post(
                    self.url, data=body, headers=headers, timeout=self.timeout, allow_redirects=False
                ).status_code
            except requests.RequestException as exc:
                status = None
                log.warning(
                    "webhook attempt failed",
                    extra={
                        "fields": {
                            "event": event,
                            "delivery_id": delivery_id,
                            "attempt": attempts,
                            "error": type(exc).__name__,
                        }
                    },
                )
            if status is not None and 200 <= status < 300:
                return DeliveryResult(True, attempts, status, delivery_id)
            if not _retryable(status):
                break
        log.error(
            "webhook not delivered",
            extra={"fields": {"event": event, "delivery_id": delivery_id, "attempts": attempts, "status": status}},
        )
        return DeliveryResult(False, attempts, status, delivery_id)

    def send_async(self, event: str, payload: dict[str, Any]) -> threading.Thread:
        """Deliver on a daemon thread, so the request that caused the event is not held up."""
        thread = threading.Thread(target=self.deliver, args=(event, payload), name=f"webhook-{event}", daemon=True)
        thread.start()
        return thread


_senders: dict[tuple[str, str], WebhookSender] = {}
_senders_lock = threading.Lock()


def sender_for(settings: Any) -> WebhookSender | None:
    """The process's sender for ``settings``, or None when webhooks are not configured.

    Needs ``IDSVC_WEBHOOK_URL`` and ``IDSVC_WEBHOOK_SECRET``; an URL without a secret sends
    nothing (unsigned calls would teach receivers to skip verification) and logs why.
    """
    url = getattr(settings, "webhook_url", "") or ""
    secret = str(getattr(settings, "webhook_secret", "") or "")
    if not url:
        return None
    if not secret:
        log.warning("IDSVC_WEBHOOK_URL is set but IDSVC_WEBHOOK_SECRET is not: webhooks disabled")
        return None
    with _senders_lock:
        sender = _senders.get((url, secret))
        if sender is None:
            sender = _senders[(url, secret)] = WebhookSender(url, secret)
        return sender


def notify(settings: Any, event: str, payload: dict[str, Any]) -> threading.Thread | None:
    """Fire-and-forget delivery of ``event`` if webhooks are configured."""
    sender = sender_for(settings)
    return sender.send_async(event, payload) if sender else None
