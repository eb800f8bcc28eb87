"""Settings of the signing key, and the token format (no database)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from idsvc.certificate.issue import mask_name
from idsvc.certificate.render import person_from_id_number
from idsvc.certificate.signing import InvalidToken, Signer, token_from, verify
from idsvc.core.settings import ConfigError, Secret, Settings

PROD = {"IDSVC_ENV": "production", "IDSVC_SECRET_KEY": "x" * 32, "IDSVC_REDIS_URL": "redis://127.0.0.1:6379/15"}


def test_production_requires_a_valid_signing_key() -> None:
    with pytest.raises(ConfigError, match="IDSVC_CERT_SIGNING_KEY is required"):
        Settings.from_env(PROD)
    with pytest.raises(ConfigError, match="IDSVC_CERT_SIGNING_KEY"):
        Settings.from_env({**PROD, "IDSVC_CERT_SIGNING_KEY": "bm90IGEga2V5"})
    key = Ed25519PrivateKey.generate()
    seed = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    for text in (base64.b64encode(seed).decode(), base64.urlsafe_b64encode(seed).decode().rstrip("="), pem):
        s = Settings.from_env({**PROD, "IDSVC_CERT_SIGNING_KEY": text, "IDSVC_ASSOCIATION_NAME": "某省资产评估协会"})
        assert Signer.from_settings(s).jwk() == Signer(key).jwk()
        assert s.association_name == "某省资产评估协会"
        assert text not in repr(s)


def test_development_key_follows_the_secret_key() -> None:
    a = Signer.from_settings(Settings(secret_key=Secret("a" * 20)))
    assert a.jwk() == Signer.from_settings(Settings(secret_key=Secret("a" * 20))).jwk()
    assert a.jwk() != Signer.from_settings(Settings(secret_key=Secret("b" * 20))).jwk()


def test_token_round_trip_and_tampering() -> None:
    signer = Signer(Ed25519PrivateKey.generate())
    at = datetime(2025, 3, 1, 8, 30, tzinfo=UTC)
    token = signer.sign("ZS-A1-01", "A1", "欧阳娜娜", at)
    assert len(token) < 200  # fits a small QR
    st = verify(token, [signer.jwk()])
    assert (st.cert_no, st.member_no, st.name, st.issued_at) == ("ZS-A1-01", "A1", "欧阳娜娜", at)
    assert token_from(f"https://x.example/c/{token}?utm=1") == token
    other = Signer(Ed25519PrivateKey.generate())
    with pytest.raises(InvalidToken):
        verify(token, [other.jwk()])  # another kid
    with pytest.raises(InvalidToken):
        verify(token, [{**other.jwk(), "kid": signer.kid}])  # same kid, wrong key
    for bad in ("", ".", "a.b.c", token.replace(".", ""), token[:-1] + ("A" if token[-1] != "A" else "B"), "é.x"):
        with pytest.raises(InvalidToken):
            verify(bad, [signer.jwk()])


def test_masking_and_id_number_facts() -> None:
    assert mask_name("张三丰") == "张*丰"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧**娜"
    assert person_from_id_number("110101199003078515") == ("男", "1990年03月07日")
    assert person_from_id_number("11010519491231002X") == ("女", "1949年12月31日")
    assert person_from_id_number("110101900307851") == ("男", "1990年03月07日")
    assert person_from_id_number("bad") == ("", "")


def test_certificate_codes_are_catalogued_and_documented() -> None:
    import re
    from pathlib import Path

    import idsvc.features  # noqa: F401  (loads every catalogue)
    from idsvc.core.errors import catalogue

    owned = {code: spec for code, spec in catalogue().items() if spec.owner == "certificate"}
    assert {"face_mismatch", "portrait_rejected", "certificate_member_resigned", "member_no_taken"} <= set(owned)
    root = Path(__file__).parents[2]
    doc = (root / "docs" / "certificate.md").read_text(encoding="utf-8")
    table = dict(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", doc, flags=re.MULTILINE))
    for code, spec in owned.items():
        assert table.get(code) == str(spec.status), code
    every = catalogue()
    for code, status in table.items():
        assert code in every and str(every[code].status) == status, code
    for source in (root / "idsvc" / "certificate").glob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert not re.search(r"\bIdsvcError\(|\b(not_found|forbidden|conflict)\(", text), source.name
