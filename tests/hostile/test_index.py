"""Every #9 regression listed in regressions.py still names a test function (a rename would drop it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.hostile.regressions import node_ids

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("node", node_ids())
def test_listed_regression_exists(node: str) -> None:
    path, _, name = node.partition("::")
    source = REPO / path
    assert source.is_file(), path
    if name:
        functions = {n.name for n in ast.walk(ast.parse(source.read_text())) if isinstance(n, ast.FunctionDef)}
        assert name in functions, node
