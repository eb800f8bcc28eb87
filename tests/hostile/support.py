"""Helpers of the hostile suite: the one error shape, the per-request time budget, state snapshots."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from idsvc.core.db import AuditEntry, IdRecord
from idsvc.core.services import Services
from idsvc.documents.models import DocumentFiling
from idsvc.idchange.models import ChangeRequest

# The suite's only timing assertion: generous, for a loaded 2-core machine (issue #9: "quickly").
BUDGET_S = 10.0


def timed(call: Callable[[], Any], budget: float = BUDGET_S) -> Any:
    started = time.monotonic()
    response = call()
    elapsed = time.monotonic() - started
    assert elapsed < budget, f"answered in {elapsed:.1f} s, budget {budget} s"
    return response


def body_of(response: Any) -> Any:
    return response.get_json(silent=True) if hasattr(response, "get_json") else _json(response)


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def status_of(response: Any) -> int:
    return int(response.status_code)


def assert_error_shape(response: Any, *statuses: int) -> dict[str, Any]:
    """A 4xx (or one of ``statuses``) with ``{"error": {"code", "message", "message_en"[, "details"]}}``."""
    status = status_of(response)
    body = body_of(response)
    assert (status in statuses) if statuses else (400 <= status < 500), (status, body)
    assert isinstance(body, dict) and set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message", "message_en"} <= set(error) <= {"code", "message", "message_en", "details"}, error
    assert all(isinstance(error[k], str) and error[k] for k in ("code", "message", "message_en")), error
    return dict(error)


def snapshot(svc: Services) -> dict[str, Any]:
    """What an upload could leave behind: rows, audit events (key-use markers aside) and blobs."""
    with svc.db.session() as db:
        counts = {
            model.__name__: db.scalar(select(func.count()).select_from(model))
            for model in (DocumentFiling, ChangeRequest, IdRecord)
        }
        events = list(db.scalars(select(AuditEntry.event).where(AuditEntry.event != "apikey.used")))
    root = svc.settings.blob_dir
    blobs = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
    return {**counts, "audit": events, "blobs": blobs}
