"""The liveness catalogue: every HTTP error the feature raises is declared once, with one status."""

from __future__ import annotations

import ast
from pathlib import Path

from idsvc.core.errors import catalogue
from idsvc.core.settings import ALL_CHALLENGES
from idsvc.liveness import errors
from idsvc.liveness.challenges import CHALLENGES

PACKAGE = Path(errors.__file__).parent


def test_codes_are_catalogued_with_one_status() -> None:
    cat = catalogue()
    expected = {
        "image_invalid": 400,
        "no_face": 422,
        "multiple_faces": 422,
        "face_too_small": 422,
        "too_blurry": 422,
        "id_record_exists": 409,
        "face_models_unavailable": 503,
    }
    for code, status in expected.items():
        assert cat[code].status == status and cat[code].owner == "liveness"
        assert cat[code].message and cat[code].message_en


def test_no_inline_errors_in_the_package() -> None:
    """Issue #8.6: no ``IdsvcError(...)`` built inline, no transitional helpers, in idsvc/liveness."""
    offenders = []
    for path in PACKAGE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            is_call = isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
            if is_call and node.func.id in ("IdsvcError", "not_found", "forbidden", "conflict"):  # type: ignore[attr-defined]
                offenders.append(f"{path.name}:{node.lineno} {node.func.id}")
    assert offenders == []


def test_challenge_names_have_one_source() -> None:
    """Issue #8.4: the liveness instructions are keyed by core settings' ALL_CHALLENGES, in its order."""
    assert tuple(CHALLENGES) == ALL_CHALLENGES
    src = (PACKAGE / "challenges.py").read_text()
    assert "ALL_CHALLENGES" in src and "ALL_CHALLENGES =" not in src
