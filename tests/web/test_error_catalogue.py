"""One catalogue: every error the code raises is declared once, with one status and one text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idsvc.core.errors import catalogue, define

PACKAGE = Path(__file__).resolve().parents[2] / "idsvc"


def test_no_error_is_built_inline_outside_the_catalogue() -> None:
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        if path.name == "errors.py" and path.parent.name == "core":
            continue
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\bIdsvcError\(\s*\"", line):
                offenders.append(f"{path.relative_to(PACKAGE)}:{n}")
    assert not offenders, offenders


def test_a_code_cannot_mean_two_things() -> None:
    import idsvc.features  # noqa: F401 - loads every feature's catalogue

    spec = catalogue()["session_expired"]
    assert define(spec.code, spec.status, spec.message, spec.message_en, owner=spec.owner) == spec
    with pytest.raises(ValueError, match="declared twice"):
        define("session_expired", 409, spec.message, spec.message_en, owner=spec.owner)
