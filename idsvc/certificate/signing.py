"""Certificate tokens: a compact statement signed with Ed25519, and its public key as a JWK.

A token is ``<payload>.<signature>``, both unpadded base64url::

    payload   = UTF-8 JSON array [1, kid, certificate_no, member_no, name, issued_at_unix]
    signature = Ed25519(private key, ASCII bytes of <payload>)        (64 bytes → 86 characters)

``kid`` names the key (the first 8 base64url characters of the SHA-256 of the raw public key), so
keys can rotate: ``GET /v1/certificates/keys`` publishes ``{"keys": [JWK]}`` with ``kty: OKP``,
``crv: Ed25519``, ``x`` = the raw public key, and that ``kid``.  Anyone holding the JWK verifies a
printed certificate's token without asking us (:func:`verify`).  Plain Python, no Flask.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from idsvc.core.settings import Settings, ed25519_seed

VERSION = 1
MAX_TOKEN = 1024


class InvalidToken(ValueError):
    """The token is malformed, signed by an unknown key, or its signature does not verify."""


@dataclass(frozen=True)
class Statement:
    kid: str
    cert_no: str
    member_no: str
    name: str
    issued_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "certificate_no": self.cert_no,
            "member_no": self.member_no,
            "name": self.name,
            "issued_at": self.issued_at.isoformat(),
        }


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    if not text or any(c not in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" for c in text):
        raise InvalidToken("not base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError as exc:
        raise InvalidToken("not base64url") from exc
    # Canonical only: the last character's unused bits must be zero, so one certificate has one
    # token (an edited last character never verifies as the same signature).
    if b64url(data) != text:
        raise InvalidToken("not canonical base64url")
    return data


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public: Ed25519PublicKey) -> str:
    return b64url(hashlib.sha256(raw_public(public)).digest())[:8]


class Signer:
    """Signs and verifies with one Ed25519 key."""

    def __init__(self, private: Ed25519PrivateKey) -> None:
        self.private = private
        self.public = private.public_key()
        self.kid = key_id(self.public)

    @classmethod
    def from_settings(cls, settings: Settings) -> Signer:
        """``IDSVC_CERT_SIGNING_KEY``; without it (development, tests) a key derived from the
        secret key, so it lives exactly as long as that (generated per run unless set)."""
        if settings.cert_signing_key:
            seed = ed25519_seed(str(settings.cert_signing_key))
        else:
            seed = hashlib.sha256(b"idsvc certificate signing key\x00" + str(settings.secret_key).encode()).digest()
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, cert_no: str, member_no: str, name: str, issued_at: datetime) -> str:
        payload = [VERSION, self.kid, cert_no, member_no, name, int(issued_at.timestamp())]
        body = b64url(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
        return body + "." + b64url(self.private.sign(body.encode("ascii")))

    def jwk(self) -> dict[str, str]:
        return public_jwk(self.public)

    def verify(self, token: str) -> Statement:
        return verify(token, [self.jwk()])


def public_jwk(public: Ed25519PublicKey) -> dict[str, str]:
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64url(raw_public(public)),
        "kid": key_id(public),
        "use": "sig",
        "alg": "EdDSA",
    }


def _parse(token: str) -> tuple[str, bytes, list[Any]]:
    token = token.strip()
    if len(token) > MAX_TOKEN or token.count(".") != 1:
        raise InvalidToken("not <payload>.<signature>")
    body, sig = token.split(".")
    try:
        payload = json.loads(unb64url(body).decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidToken("payload is not JSON") from exc
    if not (
        isinstance(payload, list)
        and len(payload) == 6
        and payload[0] == VERSION
        and all(isinstance(x, str) for x in payload[1:5])
        and isinstance(payload[5], int)
        and not isinstance(payload[5], bool)
    ):
        raise InvalidToken("payload has the wrong shape")
    return body, unb64url(sig), payload


def verify(token: str, jwks: Iterable[Mapping[str, Any]]) -> Statement:
    """Check ``token`` against published keys (JWKs); the statement, or :class:`InvalidToken`."""
    body, sig, payload = _parse(token)
    kid = payload[1]
    for jwk in jwks:
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or jwk.get("kid", kid) != kid:
            continue
        try:
            public = Ed25519PublicKey.from_public_bytes(unb64url(str(jwk.get("x", ""))))
        except (InvalidToken, ValueError):
            continue
        try:
            public.verify(sig, body.encode("ascii"))
        except InvalidSignature:
            raise InvalidToken("bad signature") from None
        try:
            issued = datetime.fromtimestamp(payload[5], UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise InvalidToken("bad issue time") from exc
        return Statement(kid, payload[2], payload[3], payload[4], issued)
    raise InvalidToken(f"no published key with kid {kid!r}")


def token_from(text: str) -> str:
    """A token, or the verification URL that carries one (``…/c/<token>``)."""
    text = text.strip()
    if "/c/" in text:
        text = text.rsplit("/c/", 1)[1].split("?", 1)[0].split("#", 1)[0]
    return text
