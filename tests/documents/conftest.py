"""Fixtures for the documents tests: the sample folder (tests/data/documents) and small synthetic inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "tests" / "data" / "documents"


@pytest.fixture(scope="session")
def docs_dir() -> Path:
    return DOCS


def sample(docs_dir: Path, name: str) -> bytes:
    return next(docs_dir.glob(f"*/{name}")).read_bytes()
