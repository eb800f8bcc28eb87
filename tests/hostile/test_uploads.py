"""Hostile files against every upload endpoint (issue #9, "Keep them closed").

Each file of the generated corpus (tests/factories/hostile_files.py) is sent to each endpoint that
takes an upload.  Every answer comes within the time budget, is never a 5xx, and is a 4xx in the
one error shape unless the file is a valid file of a documented format (a polyglot, say: then a
2xx is allowed, and a stored copy is served back only as a download, never rendered).  A refusal
leaves no trace: no filing, no ID record, no change request, no blob, no audit entry, and for the
phone video no attempt spent.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest

from idsvc.core.db import IdRecord
from idsvc.core.services import Services
from tests.factories.hostile_files import IMAGES, VIDEOS, Hostile, image_corpus, video_corpus
from tests.hostile.support import assert_error_shape, body_of, snapshot, status_of, timed
from tests.idchange.idchange_support import face_encoding, make_id

NEW_NUMBER = make_id("110102", "19900307", "851")
ENROL_NUMBER = make_id("310104", "19850612", "123")


@pytest.fixture(scope="module")
def images() -> dict[str, Hostile]:
    return image_corpus()


@pytest.fixture(scope="module")
def videos() -> dict[str, Hostile]:
    return video_corpus()


def _form(field: str, data: bytes, filename: str, **fields: str) -> dict[str, Any]:
    return {field: (io.BytesIO(data), filename, "application/octet-stream"), **fields}


# endpoint name → (path, file field, other form fields)
IMAGE_ENDPOINTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "signature_check": ("/v1/documents/signature/check", "image", {}),
    "seal_check": ("/v1/documents/seal/check", "image", {"shape": "round", "size_mm": "40", "text": "测试协会"}),
    "file_signature": ("/v1/members/m-1001/signature", "image", {}),
    "file_seal": ("/v1/members/m-1001/seal", "image", {}),
    "id_record": ("/v1/id-records", "photo", {"id_number": ENROL_NUMBER, "name": "李四"}),
    "id_change_proof": (
        "/v1/id-changes",
        "proof",
        {"member_id": "m-1001", "new_id_number": NEW_NUMBER, "reason": "公安机关更正出生日期"},
    ),
}


def _download_is_inert(client: Any, key: str, make_key: Callable[..., str], endpoint: str, body: Any) -> None:
    """A stored hostile-but-valid file comes back only as an attachment that is never sniffed."""
    if endpoint.startswith("file_"):
        kind = endpoint.removeprefix("file_")
        got = client.get(f"/v1/members/m-1001/{kind}/original", headers={"Authorization": key})
    elif endpoint == "id_change_proof":
        got = client.get(f"/v1/id-changes/{body['request_id']}/proof", headers={"Authorization": make_key("national")})
    else:
        return
    assert got.status_code == 200
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    assert got.headers["Content-Disposition"].startswith("attachment;")
    assert got.mimetype in ("image/jpeg", "image/png", "application/pdf"), got.mimetype


def _image_cases() -> list[Any]:
    cases = []
    for name in IMAGES:
        for endpoint in IMAGE_ENDPOINTS:
            cases.append(pytest.param(name, endpoint, id=f"{name}-{endpoint}"))
    return cases


@pytest.mark.parametrize(("name", "endpoint"), _image_cases())
def test_hostile_image_upload(
    client: Any,
    services: Services,
    platform_key: str,
    make_key: Callable[..., str],
    make_member: Any,
    images: dict[str, Hostile],
    name: str,
    endpoint: str,
) -> None:
    make_member()
    hostile = images[name]
    path, field, fields = IMAGE_ENDPOINTS[endpoint]
    before = snapshot(services)
    response = timed(
        lambda: client.post(
            path,
            data=_form(field, hostile.data, f"{name}.jpg", **fields),
            headers={"Authorization": platform_key},
            content_type="multipart/form-data",
        )
    )
    status = status_of(response)
    assert status < 500, (status, body_of(response))
    if hostile.may_pass and status < 400:
        _download_is_inert(client, platform_key, make_key, endpoint, body_of(response))
        return
    assert_error_shape(response)
    assert snapshot(services) == before


@pytest.mark.parametrize(
    "endpoint",
    [
        pytest.param(
            e,
            marks=[],
        )
        for e in IMAGE_ENDPOINTS
    ],
)
def test_decode_budget_on_every_endpoint(
    client: Any, services: Services, platform_key: str, make_member: Any, images: dict[str, Hostile], endpoint: str
) -> None:
    """A JPEG with 150 scans (over the budget's limit of 100) is refused from its headers as
    ``image_too_complex`` by every endpoint that decodes images, before any pixel is decoded."""
    make_member()
    path, field, fields = IMAGE_ENDPOINTS[endpoint]
    before = snapshot(services)
    response = client.post(
        path,
        data=_form(field, images["jpeg_150_scans_small"].data, "scans.jpg", **fields),
        headers={"Authorization": platform_key},
        content_type="multipart/form-data",
    )
    assert assert_error_shape(response, 422)["code"] == "image_too_complex"
    assert snapshot(services) == before


# -- the phone's video -------------------------------------------------------------------------------
def _confirmed_session(live_server: str, platform_key: str) -> tuple[dict[str, Any], Any, str]:
    from tests.qr.phone import Desktop, Phone

    desktop = Desktop(live_server, platform_key)
    s = desktop.create()
    phone = Phone("o_hostile")
    csrf = Phone.csrf(phone.scan(s["scan_url"]).text)
    confirmed = phone.confirm(live_server, s["session_id"], s["match_code"], csrf)
    assert confirmed.json()["status"] == "confirmed", confirmed.text
    return s, phone, csrf


def _poll(live_server: str, s: dict[str, Any]) -> dict[str, Any]:
    import requests

    r = requests.get(
        f"{live_server}/v1/sessions/{s['session_id']}",
        headers={"Authorization": f"Bearer {s['poll_token']}"},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


# Media the service cannot decode are answered 200 with reason video_invalid and cost one of the
# three attempts (qr/verify.py; tests/qr/test_video_verification.py::test_unreadable_video_can_be_retried
# asserts it).  Issue #9 asks for a 4xx and no attempt spent on a media problem: a bug for the qr owner.
UNDECODABLE_ACCEPTED = {
    "header_only_mp4",
    "truncated_mp4",
    "mp4_without_moov",
    "mp4_10000_tracks",
    "ftyp_then_jpeg",
    "webm_magic_garbage",
    "avi_magic_garbage",
}


@pytest.mark.integration
@pytest.mark.parametrize(
    "name",
    [n for n in VIDEOS],
)
def test_hostile_video_upload(
    job_worker: None,
    live_server: str,
    services: Services,
    platform_key: str,
    make_member: Any,
    videos: dict[str, Hostile],
    name: str,
) -> None:
    make_member()
    with services.db.session() as db:  # a reference face, so the analysis really reads the video
        db.add(IdRecord(id_number="110101199003078515", name="张三", encoding=face_encoding(7), source="test"))
    hostile = videos[name]
    s, phone, csrf = _confirmed_session(live_server, platform_key)
    before = _poll(live_server, s)
    response = timed(
        lambda: phone.http.post(
            f"{live_server}/m/sessions/{s['session_id']}/video",
            files={"video": ("video.mp4", hostile.data, "video/mp4")},
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
            timeout=60,
        )
    )
    status = status_of(response)
    assert status < 500, (status, response.text[:300])
    if status == 202:  # a container the sniffer accepts is queued; the worker decides
        final = phone.follow(live_server, s["session_id"], body_of(response))
        if hostile.may_pass:
            assert final["status"] in ("confirmed", "failed")  # a random reference never matches
            return
        # Unreadable media is not the member's failed action: back to confirmed, the try given back.
        assert (final["status"], final["attempts_left"]) == ("confirmed", 3), final
        return
    assert_error_shape(response)
    after = _poll(live_server, s)
    assert (after["status"], after["attempts"]) == (before["status"], before["attempts"]) == ("confirmed", 0)
