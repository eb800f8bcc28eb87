"""The portrait checks on real faces (tests/data/faces), and portrait filing with history."""

from __future__ import annotations

import io
from typing import Any

import pytest
from click.testing import CliRunner
from PIL import Image

import idsvc.cli
from idsvc.certificate.portrait import check_portrait
from idsvc.documents import Verdict
from tests.certificate.conftest import FACES, OTHER_PERSON, PORTRAIT, face, post_file, reference_encoding
from tests.factories import certificate_portraits as defects

pytestmark = pytest.mark.model


def verdicts(data: bytes) -> dict[str, str]:
    result = check_portrait(data, reference_encoding()).result
    return {c.id: c.verdict.value for c in result.checks}


def test_matching_portrait_passes_every_check() -> None:
    out = check_portrait(face(PORTRAIT), reference_encoding())
    assert out.result.verdict in (Verdict.PASS, Verdict.WARN)
    assert out.result.failed() == []
    match = out.result.check("face_match")
    assert match is not None and match.verdict is Verdict.PASS and match.value <= 0.5
    for cid in (
        "single_face",
        "yaw",
        "pitch",
        "roll",
        "face_size",
        "exposure",
        "background_light",
        "background_plain",
        "sharpness",
    ):
        c = out.result.check(cid)
        assert c is not None and c.verdict is Verdict.PASS, (cid, c)
        assert c.value is not None and c.range and c.message and c.message_en  # raw value, range, zh/en advice
    assert out.cleaned_jpeg is not None
    im = Image.open(io.BytesIO(out.cleaned_jpeg))
    assert im.format == "JPEG" and im.size == (500, 700)  # the certificate's 35 × 49 mm (5:7)


def test_another_persons_face_fails_only_the_match() -> None:
    v = verdicts(face(OTHER_PERSON))
    assert v["face_match"] == "fail"
    assert [k for k, x in v.items() if x == "fail"] == ["face_match"]


def test_two_faces_and_no_face() -> None:
    two = verdicts((FACES / "multi" / "two_people.jpg").read_bytes())
    assert two["single_face"] == "fail" and two["face_match"] == "unable"
    none = check_portrait((FACES / "noface" / "dogs.jpg").read_bytes(), reference_encoding()).result
    single = none.check("single_face")
    assert single is not None and single.verdict is Verdict.FAIL and single.value == 0


def test_dark_face_fails_exposure() -> None:
    v = verdicts(defects.dark(face(PORTRAIT)))
    assert v["single_face"] == "pass" and v["exposure"] == "fail"


def test_tilted_face_fails_roll() -> None:
    result = check_portrait(defects.tilted(face(PORTRAIT), 22.0), reference_encoding()).result
    roll = result.check("roll")
    assert roll is not None and roll.verdict is Verdict.FAIL and abs(roll.value) > 15
    assert result.check("face_match").verdict is Verdict.PASS  # type: ignore[union-attr]


def test_tiny_face_fails_face_size() -> None:
    result = check_portrait(defects.tiny(face(PORTRAIT)), reference_encoding()).result
    size = result.check("face_size")
    assert size is not None and size.verdict is Verdict.FAIL and size.value < 0.15


def test_unreadable_file_is_400(client: Any, platform_key: str, member: str) -> None:
    r = post_file(client, f"/v1/members/{member}/portrait", platform_key, "photo", b"not an image")
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "image_invalid"
    r = client.post(f"/v1/members/{member}/portrait", data={}, headers={"Authorization": platform_key})
    assert r.status_code == 400 and r.get_json()["error"]["details"]["field"] == "photo"


def test_filing_history_and_refusals(client: Any, platform_key: str, make_key: Any, member: str, services: Any) -> None:
    url = f"/v1/members/{member}/portrait"
    h = {"Authorization": platform_key}
    assert client.get(url, headers=h).get_json()["error"]["code"] == "portrait_not_found"

    other = post_file(client, url, platform_key, "photo", face(OTHER_PERSON))
    assert other.status_code == 422
    err = other.get_json()["error"]
    assert err["code"] == "face_mismatch" and err["details"]["failed"] == ["face_match"]
    assert err["details"]["result"]["kind"] == "portrait"

    dark = post_file(client, url, platform_key, "photo", defects.dark(face(PORTRAIT)))
    assert dark.status_code == 422 and dark.get_json()["error"]["code"] == "portrait_rejected"
    assert "exposure" in dark.get_json()["error"]["details"]["failed"]

    first = post_file(client, url, platform_key, "photo", face(PORTRAIT))
    assert first.status_code == 201, first.get_json()
    f1 = first.get_json()["filing"]
    second = post_file(client, url, platform_key, "photo", face(PORTRAIT), "again.jpg")
    assert second.status_code == 201
    got = client.get(url, headers=h).get_json()
    assert got["filing"]["filing_id"] == second.get_json()["filing"]["filing_id"]
    assert [x["filing_id"] for x in got["history"]] == [got["filing"]["filing_id"], f1["filing_id"]]
    assert got["history"][1]["superseded_at"] is not None
    cleaned = client.get(url + "/cleaned.jpg", headers=h)
    assert cleaned.status_code == 200 and cleaned.mimetype == "image/jpeg"
    assert Image.open(io.BytesIO(cleaned.data)).size == (500, 700)
    original = client.get(url + f"/original?filing_id={f1['filing_id']}", headers=h)
    assert original.data == face(PORTRAIT)
    assert client.get(url, headers={"Authorization": make_key("local", "31")}).status_code == 403
    assert client.get(url, headers={"Authorization": make_key("local", "11")}).status_code == 200
    assert post_file(client, url, make_key("national"), "photo", face(PORTRAIT)).status_code == 403
    assert post_file(client, "/v1/members/nobody/portrait", platform_key, "photo", face(PORTRAIT)).status_code == 404


def test_cli_check_portrait(services: Any, member: str, tmp_path: Any) -> None:
    good = tmp_path / "p.jpg"
    good.write_bytes(face(PORTRAIT))
    r = CliRunner().invoke(
        idsvc.cli.cli, ["check", "portrait", str(good), "--member-id", member, "--json"], obj=services
    )
    assert r.exit_code == 0, r.output
    assert '"face_match"' in r.output
    bad = tmp_path / "o.jpg"
    bad.write_bytes(face(OTHER_PERSON))
    r = CliRunner().invoke(idsvc.cli.cli, ["check", "portrait", str(bad), "--member-id", member], obj=services)
    assert r.exit_code == 1 and "face_match" in r.output
    junk = tmp_path / "j.jpg"
    junk.write_bytes(b"junk")
    r = CliRunner().invoke(idsvc.cli.cli, ["check", "portrait", str(junk), "--member-id", member], obj=services)
    assert r.exit_code == 2
