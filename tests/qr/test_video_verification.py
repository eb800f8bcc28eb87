"""The phone's 3-second video over HTTP: confirmed → verifying → verified | failed, with the real models."""

from __future__ import annotations

import glob
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import pytest
import requests

from idsvc.core.db import IdRecord, Member
from tests.qr.phone import Desktop, Phone

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.usefixtures("job_worker")]


@pytest.fixture(scope="module")
def clips(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A 3-s window of d13 showing a blink, and reference encodings: d13's own face (8 s in) and Obama's."""
    from idsvc.liveness.enrol import encode_reference_photo
    from idsvc.liveness.match import encoding_to_bytes
    from tests.factories import liveness_synth as synth

    out = tmp_path_factory.mktemp("clips")
    src = data_dir / "videos/liveportrait-d13.mp4"
    window = synth.cut(src, out / "d13_blink.mp4", 0.3, 3.0)
    cap = cv2.VideoCapture(str(src))
    cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
    ok, frame = cap.read()
    cap.release()
    assert ok
    return {
        "window": window.read_bytes(),
        "same_person": encoding_to_bytes(encode_reference_photo(cv2.imencode(".jpg", frame)[1].tobytes())),
        "other_person": encoding_to_bytes(encode_reference_photo((data_dir / "faces/barack-obama_1.jpg").read_bytes())),
    }


@pytest.fixture
def settings(settings: Any) -> Any:
    return settings.replace(challenges=("blink",), challenge_actions=1)


def enrol(services: Any, encoding: bytes, id_number: str = "110101199003078515") -> None:
    with services.db.session() as db:
        db.merge(IdRecord(id_number=id_number, name="张三", encoding=encoding, source="test"))


def confirmed_phone(desktop: Desktop, live_server: str, openid: str = "o_video") -> tuple[dict[str, Any], Phone, str]:
    s = desktop.create()
    phone = Phone(openid)
    page = phone.scan(s["scan_url"])
    csrf = Phone.csrf(page.text)
    assert phone.confirm(live_server, s["session_id"], s["match_code"], csrf).json()["status"] == "confirmed"
    page = phone.open(f"{live_server}/m/s/{s['session_id']}")
    assert "请眨眨眼" in page.text
    return s, phone, csrf


def upload(
    phone: Phone, live_server: str, sid: str, data: bytes, csrf: str, name: str = "video.mp4"
) -> requests.Response:
    return phone.http.post(
        f"{live_server}/m/sessions/{sid}/video",
        files={"video": (name, data, "video/mp4")},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        timeout=60,
    )


def test_genuine_video_verifies_and_desktop_sees_it(
    desktop: Desktop, live_server: str, services: Any, clips: dict
) -> None:
    enrol(services, clips["same_person"])
    s, phone, csrf = confirmed_phone(desktop, live_server)
    seen: list[str] = []

    def watch() -> None:
        version = 3
        while True:
            r = desktop.poll(s, wait=20, version=version).json()
            seen.append(r["status"])
            version = r["version"]
            if r["status"] in ("verified", "failed"):
                return

    watcher = threading.Thread(target=watch)
    watcher.start()
    time.sleep(0.3)
    before = set(glob.glob(f"{tempfile.gettempdir()}/idsvc-video-*"))
    body = phone.verify(live_server, s["session_id"], clips["window"], csrf)
    assert body["status"] == "verified" and body["passed"] and body["message"] == "验证通过"
    assert "measurements" not in body  # the numbers stay server-side
    watcher.join(10)
    assert seen[-1] == "verified" and "verifying" in seen
    assert set(glob.glob(f"{tempfile.gettempdir()}/idsvc-video-*")) <= before  # the raw video is gone
    assert not [k for k in services.redis.scan_iter(f"{services.settings.redis_prefix}:qr:video:*")]  # from Redis too
    with services.db.session() as db:
        assert db.get(Member, "m-1001").openid == "o_video"
        from idsvc.core.db import AuditEntry

        verified = [e for e in db.query(AuditEntry) if e.event == "session.verified"]
        assert verified and verified[0].data["match_distance"] < 0.5 and verified[0].data["challenge"] == "blink"
    assert "验证成功" in phone.open(f"{live_server}/m/s/{s['session_id']}").text


def test_other_person_fails_with_face_mismatch(desktop: Desktop, live_server: str, services: Any, clips: dict) -> None:
    enrol(services, clips["other_person"])
    s, phone, csrf = confirmed_phone(desktop, live_server)
    body = phone.verify(live_server, s["session_id"], clips["window"], csrf)
    assert body["status"] == "failed" and body["reason"] == "face_mismatch"
    assert desktop.poll(s).json()["failure_reason"] == "face_mismatch"
    with services.db.session() as db:
        assert db.get(Member, "m-1001").openid is None  # only a success binds the phone


def test_no_id_record_is_said_at_confirmation_before_any_recording(
    desktop: Desktop, live_server: str, services: Any
) -> None:
    with services.db.session() as db:  # the member's number has no reference face on file
        db.query(IdRecord).delete()
    s = desktop.create()
    phone = Phone("o_video")
    csrf = Phone.csrf(phone.scan(s["scan_url"]).text)
    r = phone.confirm(live_server, s["session_id"], s["match_code"], csrf)
    assert r.status_code == 409 and r.json()["error"]["code"] == "id_record_not_found"
    assert "身份证号变更申请" in r.json()["error"]["message"]
    polled = desktop.poll(s).json()  # the desktop sees it at once, no video was ever recorded
    assert (polled["status"], polled["failure_reason"], polled["attempts"]) == ("failed", "id_record_not_found", 0)


def test_unreadable_video_can_be_retried(desktop: Desktop, live_server: str, services: Any, clips: dict) -> None:
    enrol(services, clips["same_person"])
    s, phone, csrf = confirmed_phone(desktop, live_server)
    corrupt = b"\x00\x00\x00\x18ftypmp42" + b"\x00garbage" * 500
    body = phone.verify(live_server, s["session_id"], corrupt, csrf)
    # An unreadable file is not the member's failed action: the try is given back.
    assert body["status"] == "confirmed" and body["reason"] == "video_invalid" and body["attempts_left"] == 3
    assert body["instruction"] == "请眨眨眼"
    assert desktop.poll(s).json()["last_reason"] == "video_invalid"
    assert phone.verify(live_server, s["session_id"], clips["window"], csrf)["status"] == "verified"


def test_bad_files_never_use_up_the_attempts(desktop: Desktop, live_server: str, services: Any) -> None:
    enrol(services, b"\x00" * 1024)
    s, phone, csrf = confirmed_phone(desktop, live_server)
    corrupt = b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 100
    answers = [phone.verify(live_server, s["session_id"], corrupt, csrf) for _ in range(4)]
    assert [(a["status"], a["attempts_left"]) for a in answers] == [("confirmed", 3)] * 4
    assert desktop.poll(s).json()["attempts"] == 0


def test_upload_refusals_consume_no_attempt(
    desktop: Desktop, live_server: str, services: Any, settings: Any, clips: dict, data_dir: Path
) -> None:
    enrol(services, clips["same_person"])
    s, phone, csrf = confirmed_phone(desktop, live_server)
    sid = s["session_id"]
    png = (data_dir / "faces/barack-obama_5.jpg").read_bytes()
    r = upload(phone, live_server, sid, png, csrf, name="video.mp4")
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_video_type"
    assert upload(phone, live_server, sid, b"", csrf).status_code == 400
    assert upload(phone, live_server, sid, clips["window"], "forged").status_code == 403
    r = phone.http.post(
        f"{live_server}/m/sessions/{sid}/video",
        data={"x": "1"},
        headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400 and r.json()["error"]["details"]["field"] == "video"
    assert (
        Phone("o_stranger")
        .http.post(
            f"{live_server}/m/sessions/{sid}/video",
            files={"video": ("v.mp4", clips["window"])},
            headers={"Accept": "application/json"},
            timeout=10,
        )
        .status_code
        == 403
    )
    assert desktop.poll(s).json()["attempts"] == 0


@pytest.mark.settings(max_video_bytes=1000)
def test_oversize_video_is_413(desktop: Desktop, live_server: str, services: Any, clips: dict) -> None:
    s, phone, csrf = confirmed_phone(desktop, live_server)
    r = upload(phone, live_server, s["session_id"], clips["window"], csrf)
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"


def test_video_before_confirmation_is_409(desktop: Desktop, live_server: str, clips: dict) -> None:
    s = desktop.create()
    phone = Phone("o_early")
    page = phone.scan(s["scan_url"])
    r = upload(phone, live_server, s["session_id"], clips["window"], Phone.csrf(page.text))
    assert r.status_code == 409 and r.json()["error"]["code"] == "invalid_state"


def test_verified_result_is_consumed_once(
    desktop: Desktop, live_server: str, services: Any, clips: dict, make_key: Any
) -> None:
    enrol(services, clips["same_person"])
    s, phone, csrf = confirmed_phone(desktop, live_server)
    url = f"{live_server}/v1/sessions/{s['session_id']}/consume"
    key = {"Authorization": desktop.api_key}
    r = requests.post(url, headers=key, timeout=10)
    assert r.status_code == 409 and r.json()["error"]["code"] == "not_verified"
    assert phone.verify(live_server, s["session_id"], clips["window"], csrf)["status"] == "verified"
    assert requests.post(url, headers={"Authorization": make_key("national")}, timeout=10).status_code == 403
    assert requests.post(url, headers={"Authorization": f"Bearer {s['poll_token']}"}, timeout=10).status_code == 401
    r = requests.post(url, json={"member_id": "someone-else"}, headers=key, timeout=10)
    assert r.status_code == 409 and r.json()["error"]["code"] == "member_mismatch"
    assert (
        requests.post(url, json={"purpose": "transfer"}, headers=key, timeout=10).json()["error"]["code"]
        == "purpose_mismatch"
    )
    from concurrent.futures import ThreadPoolExecutor

    barrier = threading.Barrier(8)

    def consume(_: int) -> requests.Response:
        barrier.wait()
        return requests.post(url, json={"member_id": "m-1001", "purpose": "login"}, headers=key, timeout=10)

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(consume, range(8)))
    assert sorted(a.status_code for a in answers) == [200] + [409] * 7
    assert all(a.json()["error"]["code"] == "already_consumed" for a in answers if a.status_code == 409)
    assert next(a for a in answers if a.status_code == 200).json()["consumed_at"]
