"""The loop the procedure describes, end to end over HTTP with the real face models: a member on
file with a legacy 15-digit number fails face verification (`id_record_not_found`), files the
change with a police proof, the local association forwards it, the national one approves, and the
same member's video now verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import pytest
import requests

from idsvc.core.db import IdRecord
from idsvc.core.idnumber import to_18
from tests.qr.phone import Desktop, Phone

pytestmark = [pytest.mark.integration, pytest.mark.model]

LEGACY = "110101900307851"  # the member's first-generation number, still on file
CURRENT = to_18(LEGACY)  # what the national ID record (the reference face) is filed under


@pytest.fixture
def settings(settings: Any, wechat_server: str) -> Any:
    return settings.replace(
        wechat_api_base=f"{wechat_server}/",
        wechat_oauth_base=f"{wechat_server}/connect/",
        challenges=("blink",),
        challenge_actions=1,
    )


def verify_once(desktop: Desktop, base: str, clip: bytes) -> dict[str, Any]:
    s = desktop.create()
    phone = Phone("o_member")
    page = phone.scan(s["scan_url"])
    csrf = Phone.csrf(page.text)
    confirmed = phone.confirm(base, s["session_id"], s["match_code"], csrf)
    if confirmed.status_code == 409:  # no ID record under the number on file: said before recording
        error = confirmed.json()["error"]
        return {"status": "failed", "reason": error["code"], "message": error["message"]}
    assert confirmed.json()["status"] == "confirmed"
    return phone.verify(base, s["session_id"], clip, csrf)


@pytest.mark.usefixtures("job_worker")
def test_changed_id_number_unblocks_face_verification(
    live_server: str,
    keys: Any,
    make_member: Any,
    services: Any,
    data_dir: Path,
    tmp_path: Path,
    proof_files: dict[str, bytes],
) -> None:
    from idsvc.liveness.enrol import encode_reference_photo
    from idsvc.liveness.match import encoding_to_bytes
    from tests.factories import liveness_synth as synth

    src = data_dir / "videos/liveportrait-d13.mp4"
    clip = synth.cut(src, tmp_path / "w.mp4", 0.3, 3.0).read_bytes()
    cap = cv2.VideoCapture(str(src))
    cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
    ok, frame = cap.read()
    assert ok
    make_member(member_id="m-1001", id_number=LEGACY, association="11")
    with services.db.session() as db:
        enc = encoding_to_bytes(encode_reference_photo(cv2.imencode(".jpg", frame)[1].tobytes()))
        db.add(IdRecord(id_number=CURRENT, name="张三", encoding=enc, source="id-authority"))
    desktop = Desktop(live_server, keys.platform)

    before = verify_once(desktop, live_server, clip)
    assert before["status"] == "failed" and before["reason"] == "id_record_not_found"
    assert "身份证号变更申请" in before["message"]

    filed = requests.post(
        f"{live_server}/v1/id-changes",
        headers={"Authorization": keys.platform},
        timeout=10,
        data={"member_id": "m-1001", "new_id_number": CURRENT, "reason": "一代证升级为二代证"},
        files={"proof": ("proof.pdf", proof_files["pdf"], "application/pdf")},
    )
    assert filed.status_code == 201, filed.text
    rid = filed.json()["request_id"]
    r = requests.post(
        f"{live_server}/v1/id-changes/{rid}/review",
        json={"decision": "forward", "comment": "材料齐全"},
        headers={"Authorization": keys.local},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    r = requests.post(
        f"{live_server}/v1/id-changes/{rid}/decision",
        json={"decision": "approve", "comment": "同意"},
        headers={"Authorization": keys.national},
        timeout=10,
    )
    assert r.status_code == 200, r.text

    after = verify_once(desktop, live_server, clip)
    assert after["status"] == "verified" and after["passed"]
