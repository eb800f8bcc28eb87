"""HTTP endpoints of idsvc.liveness (placeholder until the feature lands)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("liveness", __name__)
