"""POST /v1/id-records through the app, with the lead's client/make_key fixtures (real SQL, Redis)."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from idsvc.core.db import AuditEntry, IdRecord
from idsvc.liveness.match import encoding_from_bytes

pytestmark = [pytest.mark.integration, pytest.mark.model]

ID_NUMBER = "110101199003078515"


def post(client: Any, key: str | None, photo: bytes | None, id_number: str = ID_NUMBER, name: str = "张三") -> Any:
    data: dict[str, Any] = {"id_number": id_number, "name": name}
    if photo is not None:
        data["photo"] = (io.BytesIO(photo), "id.jpg")
    headers = {"Authorization": key} if key else {}
    return client.post("/v1/id-records", data=data, headers=headers, content_type="multipart/form-data")


def test_create_id_record(client: Any, platform_key: str, faces_dir: Path, services: Any) -> None:
    r = post(client, platform_key, (faces_dir / "barack-obama_2.jpg").read_bytes())
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["id_number"] == "110101********8515" and body["name"] == "张三" and body["source"] == "api"
    assert body["created_at"]
    with services.db.session() as db:
        rec = db.get(IdRecord, ID_NUMBER)
        enc = encoding_from_bytes(rec.encoding)
        assert enc.shape == (128,) and np.isfinite(enc).all()
        events = [e for e in db.query(AuditEntry).all() if e.event == "idrecord.created"]
        assert events and events[-1].subject == "110101********8515"  # never the full number
    again = post(client, platform_key, (faces_dir / "barack-obama_2.jpg").read_bytes())
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "id_record_exists"


@pytest.mark.parametrize(
    ("photo", "status", "code"),
    [
        ("noface/dogs.jpg", 422, "no_face"),
        ("multi/two_people.jpg", 422, "multiple_faces"),
        (None, 400, "invalid_input"),
    ],
)
def test_face_problems(
    client: Any, platform_key: str, faces_dir: Path, photo: str | None, status: int, code: str
) -> None:
    r = post(client, platform_key, (faces_dir / photo).read_bytes() if photo else None)
    assert r.status_code == status and r.get_json()["error"]["code"] == code
    assert r.get_json()["error"]["message"] and r.get_json()["error"]["message_en"]


def test_not_an_image(client: Any, platform_key: str) -> None:
    r = post(client, platform_key, b"%PDF-1.4 definitely not a photo")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "image_invalid"


def test_bad_id_number_is_checked_before_the_photo(client: Any, platform_key: str) -> None:
    r = post(client, platform_key, b"irrelevant", id_number="110101199003078514")  # wrong check digit
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_id_number"
    r = post(client, platform_key, b"irrelevant", name="  ")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_input"


def test_roles(client: Any, make_key: Callable[..., str], faces_dir: Path) -> None:
    photo = (faces_dir / "barack-obama_2.jpg").read_bytes()
    assert post(client, None, photo).status_code == 401
    assert post(client, make_key("local", "11"), photo).status_code == 403
    assert post(client, make_key("national"), photo).status_code == 403


def test_gif_is_refused_by_format(client: Any, platform_key: str) -> None:
    """Issue #9.8: a GIF (not a documented format) is refused before decoding."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 300), (180, 140, 120)).save(buf, format="GIF")
    r = post(client, platform_key, buf.getvalue())
    err = r.get_json()["error"]
    assert r.status_code == 400 and err["code"] == "image_invalid" and err["details"]["problem"] == "unsupported_format"


def test_photo_is_analysed_before_the_write_transaction(
    client: Any, platform_key: str, faces_dir: Path, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue #9.11: no database transaction (SQLite: BEGIN IMMEDIATE, the write lock) is open while
    the photo is analysed."""
    from sqlalchemy import event

    from idsvc.liveness import records

    open_tx = [0]
    during_encode: list[int] = []
    real = records.encode_reference_photo

    def spy(photo: bytes) -> np.ndarray:
        during_encode.append(open_tx[0])
        return real(photo)

    def began(*_: Any) -> None:
        open_tx[0] += 1

    def ended(*_: Any) -> None:
        open_tx[0] -= 1

    engine = services.db.engine
    listeners = [("begin", began), ("commit", ended), ("rollback", ended)]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    monkeypatch.setattr(records, "encode_reference_photo", spy)
    try:
        r = post(client, platform_key, (faces_dir / "barack-obama_2.jpg").read_bytes())
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)
    assert r.status_code == 201, r.get_json()
    assert during_encode == [0]
    with services.db.session() as db:
        assert db.get(IdRecord, ID_NUMBER) is not None
