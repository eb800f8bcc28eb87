"""Fixtures of the ID-number change tests: real proof documents, the three reviewer keys, an API helper."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from idchange_support import OLD, Api, Keys, face_encoding, pdf_proof

from idsvc.core.db import IdRecord, Member
from idsvc.core.services import Services


@pytest.fixture(scope="session")
def proof_files(data_dir: Path) -> dict[str, bytes]:
    """Real documents: a generated PDF certificate, a scanned signed document (JPEG), a seal scan (PNG)."""
    return {
        "pdf": pdf_proof(),
        "jpeg": (data_dir / "documents" / "signatures_documents" / "enzoseason_signed_image.jpeg").read_bytes(),
        "png": (data_dir / "documents" / "seals_synthetic" / "synth_seal_square20_red_ok.png").read_bytes(),
    }


@pytest.fixture
def keys(make_key: Callable[..., str]) -> Keys:
    return Keys(
        platform=make_key("platform", name="portal"),
        local=make_key("local", "11", name="beijing"),
        local_other=make_key("local", "31", name="shanghai"),
        national=make_key("national", name="cas"),
    )


@pytest.fixture
def enrol(services: Services, make_member: Callable[..., Member]) -> Callable[..., Member]:
    """A member plus the reference face (IdRecord) filed under the member's number."""

    def make(
        member_id: str = "m-1001", id_number: str = OLD, association: str = "11", name: str = "张三", seed: int = 7
    ) -> Member:
        member = make_member(member_id=member_id, name=name, id_number=id_number, association=association)
        with services.db.session() as db:
            db.add(IdRecord(id_number=id_number, name=name, encoding=face_encoding(seed), source="test-enrolment"))
        return member

    return make


@pytest.fixture
def api(client: Any, keys: Keys, proof_files: dict[str, bytes]) -> Api:
    return Api(client, keys, proof_files["pdf"])
