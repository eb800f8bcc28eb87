"""Fixtures for the documents tests: the shared sample folder and small synthetic inputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCS = Path(os.environ.get("IDSVC_SHARED_DIR", REPO.parent / "shared")) / "data" / "documents"


@pytest.fixture(scope="session")
def docs_dir() -> Path:
    if not DOCS.is_dir():
        pytest.fail(f"shared documents not found at {DOCS} (set IDSVC_SHARED_DIR)")
    return DOCS


def sample(docs_dir: Path, name: str) -> bytes:
    return next(docs_dir.glob(f"*/{name}")).read_bytes()
