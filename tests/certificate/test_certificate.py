"""Member status, the certificate gate, the rendered PDF/PNG, and verification by anyone."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import cv2
import numpy as np
import pytest
import requests
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader

import idsvc.cli
from idsvc.certificate.models import MemberProfile
from idsvc.certificate.signing import b64url, unb64url, verify
from idsvc.core.db import AuditEntry
from tests.certificate.conftest import patch

pytestmark = pytest.mark.model


def _h(key: str) -> dict[str, str]:
    return {"Authorization": key}


def _tampered(token: str) -> str:
    """The token with one signature character changed (always a change: "…AA" is a real ending)."""
    return token[:-2] + ("B" if token[-2] != "B" else "C") + token[-1]


def decode_qr(png: bytes) -> str:
    """Read the certificate's QR the way a phone would: OpenCV's two detectors, on the whole page and
    on crops around the QR's corner, at 1× and 2× (either detector alone misses some codes)."""
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    h, w = img.shape[:2]
    crops = [img, img[: h * 2 // 3, w * 2 // 3 :], img[h // 3 :, w * 2 // 3 :], img[:, w // 2 :]]
    for crop in crops:
        for scale in (1, 2):
            view = crop if scale == 1 else cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
            for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
                text, _, _ = detector.detectAndDecode(view)
                if text:
                    return str(text)
    return ""


def test_patch_member_validates_and_audits_old_and_new(
    client: Any, platform_key: str, member: str, services: Any
) -> None:
    r = patch(client, member, platform_key, member_no="3301230045", firm="某某评估事务所", category="practising")
    assert r.status_code == 200
    body = r.get_json()
    assert body["standing"] == "active" and body["member_no"] == "3301230045"
    assert body["changes"]["member_no"] == {"old": None, "new": "3301230045"}
    r = patch(client, member, platform_key, standing="custody")
    assert r.get_json()["changes"] == {"standing": {"old": "active", "new": "custody"}}
    with services.db.session() as db:
        entries = db.query(AuditEntry).filter_by(event="member.status_changed").order_by(AuditEntry.seq).all()
        assert [e.data["changes"] for e in entries][-1] == {"standing": {"old": "active", "new": "custody"}}
    for bad in ({"standing": "sleeping"}, {"category": 3}, {"colour": "red"}, {}, {"member_no": "有汉字"}):
        r = patch(client, member, platform_key, **bad)
        assert r.status_code == 400, bad
        assert r.get_json()["error"]["code"] in ("invalid_input", "invalid_json")
    assert patch(client, "nobody", platform_key, standing="active").status_code == 404
    assert client.patch(f"/v1/members/{member}", data="x", headers=_h(platform_key)).status_code == 400


def test_member_no_is_unique(client: Any, platform_key: str, member: str, make_member: Any) -> None:
    make_member("m-other", name="李四", id_number="11010519491231002X")
    assert patch(client, member, platform_key, member_no="A1").status_code == 200
    r = patch(client, "m-other", platform_key, member_no="A1")
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "member_no_taken"


def test_cli_member_set(services: Any, member: str) -> None:
    r = CliRunner().invoke(
        idsvc.cli.cli, ["member", "set", "--member-id", member, "--standing", "resigned"], obj=services
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["changes"] == {"standing": {"old": "active", "new": "resigned"}}
    with services.db.session() as db:
        assert db.get(MemberProfile, member).standing == "resigned"
    r = CliRunner().invoke(
        idsvc.cli.cli, ["member", "set", "--member-id", "nobody", "--standing", "active"], obj=services
    )
    assert r.exit_code == 1 and "member_not_found" in r.output


def test_gate_for_missing_assets(client: Any, platform_key: str, member: str) -> None:
    from tests.certificate.conftest import PORTRAIT, face, post_file
    from tests.factories.documents_defects import clean_seal, clean_signature_scan
    from tests.factories.documents_synth import to_png

    url = f"/v1/members/{member}/certificate.pdf"

    def code() -> tuple[str, list[str]]:
        r = client.get(url, headers=_h(platform_key))
        assert r.status_code == 409, r.status_code
        err = r.get_json()["error"]
        assert err["message"] and err["message_en"]
        return err["code"], err["details"]["reasons"]

    assert code() == (
        "certificate_member_no_missing",
        [
            "certificate_member_no_missing",
            "certificate_portrait_missing",
            "certificate_seal_missing",
            "certificate_signature_missing",
        ],
    )
    patch(client, member, platform_key, member_no="3301230045", firm="某某评估事务所")
    assert code()[0] == "certificate_portrait_missing"
    assert post_file(client, f"/v1/members/{member}/portrait", platform_key, "photo", face(PORTRAIT)).status_code == 201
    assert code()[0] == "certificate_seal_missing"
    assert (
        post_file(
            client, f"/v1/members/{member}/seal", platform_key, "image", to_png(clean_seal(), 300), "s.png"
        ).status_code
        == 201
    )
    assert code() == ("certificate_signature_missing", ["certificate_signature_missing"])
    sig = to_png(clean_signature_scan(seed=7))
    assert post_file(client, f"/v1/members/{member}/signature", platform_key, "image", sig, "g.png").status_code == 201
    status = client.get(f"/v1/members/{member}/certificate", headers=_h(platform_key)).get_json()
    assert status["printable"] is True and status["reasons"] == [] and status["current"] is None
    assert client.get(url, headers=_h(platform_key)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"standing": "custody"}, "certificate_member_in_custody"),
        ({"standing": "resigned"}, "certificate_member_resigned"),
        ({"standing": "inspection_failed"}, "certificate_inspection_failed"),
        ({"category": "non_practising"}, "certificate_not_practising"),
    ],
)
def test_gate_for_every_standing(
    client: Any, platform_key: str, ready_member: str, fields: dict[str, str], code: str
) -> None:
    assert patch(client, ready_member, platform_key, **fields).status_code == 200
    for fmt in ("pdf", "png"):
        r = client.get(f"/v1/members/{ready_member}/certificate.{fmt}", headers=_h(platform_key))
        assert r.status_code == 409 and r.get_json()["error"]["code"] == code
    back = {"standing": "active"} if "standing" in fields else {"category": "practising"}
    assert patch(client, ready_member, platform_key, **back).status_code == 200
    assert client.get(f"/v1/members/{ready_member}/certificate.png", headers=_h(platform_key)).status_code == 200


def test_gate_for_an_open_id_change(client: Any, platform_key: str, ready_member: str, services: Any) -> None:
    from idsvc.idchange.models import ChangeRequest

    with services.db.session() as db:
        db.add(
            ChangeRequest(
                request_id="chg1",
                member_id=ready_member,
                association="11",
                old_id_number="110101199003078515",
                new_id_number="11010519491231002X",
                reason="test",
                state="submitted",
                proof_sha256="0" * 64,
                proof_mime="application/pdf",
                proof_size=1,
                filed_by="test",
            )
        )
    r = client.get(f"/v1/members/{ready_member}/certificate.pdf", headers=_h(platform_key))
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "certificate_id_change_open"
    with services.db.session() as db:
        db.get(ChangeRequest, "chg1").state = "rejected"
    assert client.get(f"/v1/members/{ready_member}/certificate.pdf", headers=_h(platform_key)).status_code == 200


def test_pdf_text_layer_and_embedded_cjk_font(client: Any, platform_key: str, ready_member: str) -> None:
    r = client.get(f"/v1/members/{ready_member}/certificate.pdf", headers=_h(platform_key))
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    cert_no = r.headers["X-Certificate-No"]
    assert cert_no == "ZS-3301230045-01"
    reader = PdfReader(io.BytesIO(r.data))
    page = reader.pages[0]
    text = page.extract_text()
    for expected in (
        "张三丰",
        cert_no,
        "执业会员电子证书",
        "3301230045",
        "男",
        "1990年03月07日",
        "110101********8515",
        "执业会员",
    ):
        assert expected in text, expected
    assert "110101199003078515" not in text  # the ID number only masked
    fonts = page["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        desc = font.get("/FontDescriptor")
        if desc is None and "/DescendantFonts" in font:
            desc = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
        desc = desc.get_object() if desc is not None else {}
        if any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            embedded.append(str(font["/BaseFont"]))
    assert any("WenQuanYi" in name or "WQY" in name.upper() for name in embedded), embedded
    # A4 landscape.
    assert (
        round(float(page.mediabox.width) / 72 * 25.4) == 297 and round(float(page.mediabox.height) / 72 * 25.4) == 210
    )
    # The same content again: the same issue (number and token).
    again = client.get(f"/v1/members/{ready_member}/certificate.pdf", headers=_h(platform_key))
    assert (
        again.headers["X-Certificate-No"] == cert_no
        and again.headers["X-Certificate-Token"] == r.headers["X-Certificate-Token"]
    )


def test_png_qr_leads_to_the_live_status(live_server: str, platform_key: str, ready_member: str) -> None:
    s = requests.Session()
    r = s.get(f"{live_server}/v1/members/{ready_member}/certificate.png", headers=_h(platform_key), timeout=60)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    im = Image.open(io.BytesIO(r.content))
    assert im.size == (1754, 1240)  # A4 landscape at 150 dpi
    url = decode_qr(r.content)
    assert url.startswith(f"{live_server}/c/"), url
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and "有效" in page.text and "已失效" not in page.text
    assert (
        "张*丰" in page.text
        and "张三丰" not in page.text
        and "3301230045" not in re.sub(r"ZS-3301230045-\d+", "", page.text)
    )
    assert page.headers["Cache-Control"].startswith("no-store")

    r = s.patch(
        f"{live_server}/v1/members/{ready_member}", json={"standing": "resigned"}, headers=_h(platform_key), timeout=30
    )
    assert r.status_code == 200
    page = requests.get(url, timeout=30)
    assert page.status_code == 200 and "已失效" in page.text


def test_tampered_token_shows_an_invalid_page(client: Any, platform_key: str, ready_member: str) -> None:
    r = client.get(f"/v1/members/{ready_member}/certificate.png", headers=_h(platform_key))
    token = r.headers["X-Certificate-Token"]
    body, sig = token.split(".")
    payload = json.loads(unb64url(body))
    payload[4] = "李四"  # another name, the old signature
    forged = b64url(json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()) + "." + sig
    flipped = token[:-3] + ("A" if token[-3] != "A" else "B") + token[-2:]
    for bad in (forged, flipped, "garbage", "a.b", token + "x"):
        page = client.get(f"/c/{bad}")
        assert page.status_code == 400, bad
        text = page.get_data(as_text=True)
        assert "无效" in text and "有效</div>" not in text.replace("无效</div>", "")
        assert "李四" not in text


def test_offline_verification_with_the_published_key(
    client: Any, platform_key: str, ready_member: str, services: Any, tmp_path: Any
) -> None:
    r = client.get(f"/v1/members/{ready_member}/certificate.pdf", headers=_h(platform_key))
    token = r.headers["X-Certificate-Token"]
    jwks = client.get("/v1/certificates/keys").get_json()
    (key,) = jwks["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and len(unb64url(key["x"])) == 32

    # A verifier with nothing but the JWK and the `cryptography` package:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    body, sig = token.split(".")
    Ed25519PublicKey.from_public_bytes(unb64url(key["x"])).verify(unb64url(sig), body.encode())
    statement = verify(token, jwks["keys"])
    assert statement.cert_no == r.headers["X-Certificate-No"] and statement.name == "张三丰"

    saved = tmp_path / "keys.json"
    saved.write_text(json.dumps(jwks))
    out = CliRunner().invoke(idsvc.cli.cli, ["certificate", "verify", token, "--jwks", str(saved)], obj=services)
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["certificate_no"] == statement.cert_no
    out = CliRunner().invoke(
        idsvc.cli.cli, ["certificate", "verify", f"http://x/c/{_tampered(token)}", "--jwks", str(saved)], obj=services
    )
    assert out.exit_code == 1 and '"valid_signature": false' in out.output
    keys = CliRunner().invoke(idsvc.cli.cli, ["certificate", "keys"], obj=services)
    assert json.loads(keys.output) == jwks
    pdf = tmp_path / "c.pdf"
    out = CliRunner().invoke(
        idsvc.cli.cli, ["certificate", "render", "--member-id", ready_member, "--out", str(pdf)], obj=services
    )
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["certificate_no"] == statement.cert_no  # the same issue
    assert pdf.read_bytes().startswith(b"%PDF")


def test_reissue_after_a_change_supersedes_and_revoke(client: Any, platform_key: str, ready_member: str) -> None:
    first = client.get(f"/v1/members/{ready_member}/certificate.png", headers=_h(platform_key))
    t1 = first.headers["X-Certificate-Token"]
    assert patch(client, ready_member, platform_key, firm="另一家评估公司").status_code == 200  # an approved transfer
    second = client.get(f"/v1/members/{ready_member}/certificate.png", headers=_h(platform_key))
    assert second.headers["X-Certificate-No"] == "ZS-3301230045-02"
    old = client.get(f"/c/{t1}").get_data(as_text=True)
    assert "已失效" in old and "已换发" in old and "ZS-3301230045-02" in old
    t2 = second.headers["X-Certificate-Token"]
    assert "有效" in client.get(f"/c/{t2}").get_data(as_text=True)
    r = client.post(f"/v1/members/{ready_member}/certificate/revoke", json={"reason": "lost"}, headers=_h(platform_key))
    assert r.get_json()["revoked"] == "ZS-3301230045-02"
    assert "已被撤销" in client.get(f"/c/{t2}").get_data(as_text=True)
    third = client.get(f"/v1/members/{ready_member}/certificate.png", headers=_h(platform_key))
    assert third.headers["X-Certificate-No"] == "ZS-3301230045-03"


def test_certificate_endpoints_need_the_platform_role(client: Any, make_key: Any, ready_member: str) -> None:
    assert client.get(f"/v1/members/{ready_member}/certificate.pdf").status_code == 401
    assert (
        client.get(f"/v1/members/{ready_member}/certificate.pdf", headers=_h(make_key("national"))).status_code == 403
    )
    assert (
        client.patch(
            f"/v1/members/{ready_member}", json={"standing": "resigned"}, headers=_h(make_key("local", "11"))
        ).status_code
        == 403
    )
    assert client.get("/v1/members/nobody/certificate.pdf", headers=_h(make_key("platform"))).status_code == 404
