"""ID records: enrol a reference face from a photo, look one up by ID number.

An ID record is (ID number, name, 128-d encoding, source, created); the photo itself is never
stored.  Shared by the CLI (``idsvc idrecord add``) and ``POST /v1/id-records``.  ID numbers are
validated (GB 11643) and appear only masked in responses and in the audit log.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from idsvc.core import audit
from idsvc.core.db import IdRecord, utcnow
from idsvc.core.errors import invalid_input
from idsvc.core.idnumber import normalise, validate
from idsvc.core.logs import mask_id_number
from idsvc.liveness.enrol import encode_reference_photo
from idsvc.liveness.errors import ID_RECORD_EXISTS
from idsvc.liveness.match import encoding_from_bytes, encoding_to_bytes

MAX_NAME = 100


def clean_id_number(raw: str) -> str:
    """Normalised and validated, or ``invalid_id_number`` (400)."""
    return validate(normalise(raw))


def clean_name(raw: str | None) -> str:
    name = (raw or "").strip()
    if not name:
        raise invalid_input("name", "is required", "为必填项")
    if len(name) > MAX_NAME:
        raise invalid_input("name", f"is longer than {MAX_NAME} characters", f"超过 {MAX_NAME} 个字符")
    return name


def public_view(record: IdRecord) -> dict[str, Any]:
    return {
        "id_number": mask_id_number(record.id_number),
        "name": record.name,
        "source": record.source,
        "created_at": record.created_at.isoformat(),
    }


def add_id_record(
    db: Session, *, id_number: str, name: str, photo: bytes, source: str, actor: str, replace: bool = False
) -> IdRecord:
    """Validate, encode the photo's one face and store the record (409 if it exists, unless ``replace``).

    The photo is analysed before ``db`` is used, so pass a session that has not run a statement yet
    (as ``Database.session()`` gives): the write transaction then lasts only for the write.

    Raises ``IdsvcError``: 400 ``invalid_id_number`` / ``invalid_input`` / ``image_invalid``;
    422 ``no_face`` / ``multiple_faces`` / ``face_too_small`` / ``too_blurry``; 409 ``id_record_exists``.
    """
    number = clean_id_number(id_number)
    name = clean_name(name)
    # Analyse first, then write: the encoding (up to ~2 s on a 40-MP photo) runs before this
    # function's first statement, so it never holds the database's write lock (SQLite takes it at
    # BEGIN IMMEDIATE, i.e. on the first statement of the transaction).
    encoding = encode_reference_photo(photo)
    existing = db.get(IdRecord, number)
    if existing is not None and not replace:
        raise ID_RECORD_EXISTS({"id_number": mask_id_number(number)})
    if existing is not None:
        existing.name, existing.encoding, existing.source, existing.created_at = (
            name,
            encoding_to_bytes(encoding),
            source,
            utcnow(),
        )
        record = existing
    else:
        record = IdRecord(
            id_number=number, name=name, encoding=encoding_to_bytes(encoding), source=source, created_at=utcnow()
        )
        db.add(record)
    db.flush()
    audit.record(
        db,
        "idrecord.replaced" if existing is not None else "idrecord.created",
        actor,
        mask_id_number(number),
        {"source": source},
    )
    return record


def load_reference(db: Session, id_number: str) -> np.ndarray | None:
    """The reference encoding filed under exactly this ID number, or None.

    Deliberately no 15 → 18-digit fallback: per the association's procedure a member on file with a
    number that differs from their current card (an old 15-digit one included) cannot pass face
    verification until an ID-number change request is approved (``id_record_not_found``).
    """
    record = db.get(IdRecord, normalise(id_number))
    return None if record is None else encoding_from_bytes(record.encoding)
