"""Load-balancer probes: /healthz (process up) and /readyz (Redis and SQL reachable)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from idsvc.webkit.context import services
from idsvc.webkit.http import json_response

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    return json_response({"status": "ok"})


@bp.get("/readyz")
def readyz() -> Any:
    svc = services()
    checks: dict[str, str] = {}
    for name, probe in (("redis", svc.store.ping), ("database", svc.db.ping)):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            checks[name] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return json_response({"status": "ready" if ready else "not_ready", "checks": checks}, 200 if ready else 503)
