"""Fixtures for the certificate tests: a member with an ID-record face (real photos) and filings."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from idsvc.core.db import IdRecord
from idsvc.core.services import Services
from tests.factories.documents_defects import clean_seal, clean_signature_scan
from tests.factories.documents_synth import to_png

FACES = Path(__file__).resolve().parents[1] / "data" / "faces"
# deepface-p07: two photos of one person, the second a frontal portrait on a plain light background.
REFERENCE = "deepface-p07_1.jpg"
PORTRAIT = "deepface-p07_2.jpg"
# Another person, also frontal on a plain light background: only the face match can tell.
OTHER_PERSON = "steve-carell_1.jpg"
ID_NUMBER = "110101199003078515"  # born 1990-03-07, male


def face(name: str) -> bytes:
    return (FACES / name).read_bytes()


@functools.cache
def reference_encoding() -> np.ndarray:
    from idsvc.liveness.enrol import encode_reference_photo

    return encode_reference_photo(face(REFERENCE))


@pytest.fixture
def member(services: Services, make_member: Callable[..., Any]) -> str:
    """A member whose ID record holds the reference face (the encoding, as enrolment stores it)."""
    from idsvc.liveness.match import encoding_to_bytes

    make_member("m-cert", name="张三丰", id_number=ID_NUMBER, association="11")
    with services.db.session() as db:
        db.add(
            IdRecord(
                id_number=ID_NUMBER, name="张三丰", encoding=encoding_to_bytes(reference_encoding()), source="test"
            )
        )
    return "m-cert"


def post_file(client: Any, url: str, key: str, field: str, data: bytes, name: str = "f.jpg") -> Any:
    return client.post(
        url, data={field: (io.BytesIO(data), name)}, headers={"Authorization": key}, content_type="multipart/form-data"
    )


def patch(client: Any, member_id: str, key: str, **fields: Any) -> Any:
    return client.patch(f"/v1/members/{member_id}", json=fields, headers={"Authorization": key})


@pytest.fixture
def ready_member(client: Any, platform_key: str, member: str) -> str:
    """The member with a number, a firm, and a filed portrait, seal and signature."""
    r = patch(client, member, platform_key, member_no="3301230045", firm="浙江某某资产评估有限公司")
    assert r.status_code == 200, r.get_json()
    r = post_file(client, f"/v1/members/{member}/portrait", platform_key, "photo", face(PORTRAIT))
    assert r.status_code == 201, r.get_json()
    r = post_file(
        client, f"/v1/members/{member}/signature", platform_key, "image", to_png(clean_signature_scan(seed=7)), "s.png"
    )
    assert r.status_code == 201, r.get_json()
    r = post_file(client, f"/v1/members/{member}/seal", platform_key, "image", to_png(clean_seal(), 300), "seal.png")
    assert r.status_code == 201, r.get_json()
    return member
