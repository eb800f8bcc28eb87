"""API keys: created once, shown once, stored only as a hash.

A key looks like ``idsvc_<key_id>_<secret>``; the id finds the row, and the hash of the whole
key is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from idsvc.core.db import ApiKey

#: ``service``: a calling service (the forms behind a sensitive submission); it may only create
#: re-verifications and consume the ones it created (idsvc.reverify).
ROLES = ("platform", "local", "national", "service")


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key's name, role and (for ``local``) association code."""

    key_id: str
    name: str
    role: str
    association: str | None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create(session: Session, name: str, role: str, association: str | None = None) -> str:
    """Store a new key and return it; this is the only time it exists in clear."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}")
    if role == "local" and not association:
        raise ValueError("a local key needs --association")
    key_id = secrets.token_hex(6)
    key = f"idsvc_{key_id}_{secrets.token_urlsafe(32)}"
    session.add(ApiKey(key_id=key_id, name=name, role=role, association=association, key_hash=_hash(key)))
    return key


def authenticate(session: Session, key: str) -> Principal | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "idsvc" or len(key) > 200:
        return None
    row = session.get(ApiKey, parts[1])
    if row is None or row.revoked_at is not None:
        # Still hash once, so a missing id costs the same time as a wrong secret.
        hmac.compare_digest(_hash(key), "0" * 64)
        return None
    if not hmac.compare_digest(_hash(key), row.key_hash):
        return None
    return Principal(key_id=row.key_id, name=row.name, role=row.role, association=row.association)
