"""HTTP: check endpoints, filing (blob store + SQL + history), the sheet, roles, bad inputs via HTTP."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from idsvc.core.settings import SealSettings
from idsvc.documents.models import DocumentFiling
from tests.factories.documents_defects import clean_seal, clean_signature_scan, recolour_ink
from tests.factories.documents_synth import to_png

from .conftest import sample
from .test_decode import BAD

pytestmark = pytest.mark.integration


def _post(client, url: str, data: bytes, key: str, filename: str = "upload.jpg", **form):
    return client.post(
        url,
        data={"image": (io.BytesIO(data), filename), **form},
        headers={"Authorization": key},
        content_type="multipart/form-data",
    )


def test_signature_check_200_even_when_it_fails(client, platform_key: str, docs_dir: Path) -> None:
    r = _post(client, "/v1/documents/signature/check", sample(docs_dir, "vote_easy1.jpg"), platform_key)
    assert r.status_code == 200
    body = r.get_json()
    assert body["verdict"] == "fail" and body["dpi_source"] == "unknown"
    ink = next(c for c in body["checks"] if c["id"] == "ink_black")
    assert ink["verdict"] == "fail" and "蓝" in ink["message"]


def test_seal_check_with_template_overrides(client, platform_key: str, docs_dir: Path) -> None:
    data = sample(docs_dir, "synth_seal_round16_red_ok.png")
    default = _post(client, "/v1/documents/seal/check", data, platform_key, "s.png").get_json()
    assert default["verdict"] == "fail"  # default template: square 20 mm
    tuned = _post(
        client, "/v1/documents/seal/check", data, platform_key, "s.png", shape="round", size_mm="16"
    ).get_json()
    assert tuned["verdict"] == "pass", tuned["checks"]
    bad = _post(client, "/v1/documents/seal/check", data, platform_key, "s.png", shape="star")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "invalid_input"


@pytest.mark.settings(seal=SealSettings.from_env({"IDSVC_SEAL_SHAPE": "square", "IDSVC_SEAL_SIZE_MM": "20x10"}))
def test_seal_template_from_settings(client, platform_key: str, docs_dir: Path) -> None:
    data = sample(docs_dir, "synth_seal_rect20x10_red_ok.png")
    body = _post(client, "/v1/documents/seal/check", data, platform_key, "s.png").get_json()
    assert body["verdict"] == "pass" and body["measurements"]["template"]["height_mm"] == 10


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_inputs_are_4xx_json_never_500(client, platform_key: str, name: str) -> None:
    data, status, code = BAD[name]
    for kind in ("signature", "seal"):
        r = _post(client, f"/v1/documents/{kind}/check", data, platform_key, "x.png")
        assert r.status_code == status, (kind, r.get_json())
        assert r.get_json()["error"]["code"] == code


def test_missing_image_and_bad_dpi(client, platform_key: str) -> None:
    r = client.post("/v1/documents/signature/check", data={}, headers={"Authorization": platform_key})
    assert r.status_code == 400 and r.get_json()["error"]["details"]["field"] == "image"
    r = _post(client, "/v1/documents/signature/check", to_png(clean_signature_scan()), platform_key, dpi="abc")
    assert r.status_code == 400


def test_roles(client, make_key) -> None:
    data = to_png(clean_signature_scan())
    assert _post(client, "/v1/documents/signature/check", data, "Bearer nope").status_code == 401
    assert _post(client, "/v1/documents/signature/check", data, make_key("local", "11")).status_code == 403


def test_sheet_pdf_is_public(client) -> None:
    r = client.get("/v1/documents/sheet.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data.startswith(b"%PDF")


def test_filing_keeps_history_and_serves_the_cleaned_png(client, platform_key: str, make_member, services) -> None:
    make_member("m-42", name="王小明")
    url = "/v1/members/m-42/signature"
    assert client.get(url, headers={"Authorization": platform_key}).status_code == 404

    first = to_png(clean_signature_scan(seed=7))
    r1 = _post(client, url, first, platform_key, "a.png")
    assert r1.status_code == 201, r1.get_json()
    f1 = r1.get_json()["filing"]
    assert services.blobs.get(f1["original_sha256"]) == first
    assert services.blobs.exists(f1["cleaned_sha256"])

    rejected = _post(client, url, to_png(recolour_ink(clean_signature_scan(), (40, 60, 170))), platform_key, "b.png")
    assert rejected.status_code == 422
    err = rejected.get_json()["error"]
    assert err["code"] == "document_rejected" and "ink_black" in err["details"]["failed"]
    assert err["details"]["result"]["verdict"] == "fail"

    second = to_png(clean_signature_scan(seed=8))
    r2 = _post(client, url, second, platform_key, "c.png")
    assert r2.status_code == 201
    body2 = r2.get_json()
    assert "similarity" in body2["result"]  # compared with the first filing, for a reviewer

    got = client.get(url, headers={"Authorization": platform_key}).get_json()
    assert got["filing"]["filing_id"] == body2["filing"]["filing_id"]
    assert [h["filing_id"] for h in got["history"]] == [body2["filing"]["filing_id"], f1["filing_id"]]
    assert got["history"][1]["superseded_at"] is not None
    png = client.get(url + "/cleaned.png", headers={"Authorization": platform_key})
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert Image.open(io.BytesIO(png.data)).mode == "RGBA"
    old = client.get(url + f"/original?filing_id={f1['filing_id']}", headers={"Authorization": platform_key})
    assert old.data == first
    with services.db.session() as db:
        assert db.query(DocumentFiling).filter_by(member_id="m-42").count() == 2


def test_seal_filing_and_access_by_association(client, platform_key: str, make_key, make_member) -> None:
    make_member("m-7", name="李华", association="11")
    r = _post(client, "/v1/members/m-7/seal", to_png(clean_seal(), 300), platform_key, "s.png")
    assert r.status_code == 201, r.get_json()
    text = next(c for c in r.get_json()["result"]["checks"] if c["id"] == "text")
    assert text["verdict"] in ("unable", "warn") and "李华" in text["message"]  # blocky strokes, no characters
    assert client.get("/v1/members/m-7/seal", headers={"Authorization": make_key("local", "11")}).status_code == 200
    other = client.get("/v1/members/m-7/seal", headers={"Authorization": make_key("local", "31")})
    nobody = client.get("/v1/members/nobody/seal", headers={"Authorization": make_key("local", "31")})
    assert other.status_code == nobody.status_code == 404  # another association's member looks nonexistent
    assert other.get_json()["error"] == nobody.get_json()["error"]
    assert client.get("/v1/members/m-7/seal", headers={"Authorization": make_key("national")}).status_code == 200
    wrong = _post(client, "/v1/members/m-7/seal", to_png(clean_seal(26.0), 300), platform_key, "s.png")
    assert wrong.status_code == 422 and "size" in wrong.get_json()["error"]["details"]["failed"]


def test_unknown_member_and_kind(client, platform_key: str) -> None:
    data = to_png(clean_signature_scan())
    assert _post(client, "/v1/members/nobody/signature", data, platform_key).status_code == 404
    assert _post(client, "/v1/members/nobody/passport", data, platform_key).status_code == 404
