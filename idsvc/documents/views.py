"""HTTP endpoints of idsvc.documents (placeholder until the feature lands)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("documents", __name__)
