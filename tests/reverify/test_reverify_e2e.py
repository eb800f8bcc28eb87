"""The whole re-verification end to end over HTTP with the real models and the real mock WeChat:
create → scan with the bound WeChat → confirm → record → verified → consume with the matching
action and digest (a mismatching one first: 409, still unconsumed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import pytest

from idsvc.core.db import IdRecord, Member
from tests.qr.phone import Phone
from tests.reverify.conftest import DIGEST, Caller, complete, digest

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.usefixtures("job_worker")]


@pytest.fixture(scope="module")
def clips(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """A 3-s window of d13 showing a blink, and d13's own face (8 s in) as the ID record."""
    from idsvc.liveness.enrol import encode_reference_photo
    from idsvc.liveness.match import encoding_to_bytes
    from tests.factories import liveness_synth as synth

    src = data_dir / "videos/liveportrait-d13.mp4"
    window = synth.cut(src, tmp_path_factory.mktemp("rv") / "d13_blink.mp4", 0.3, 3.0)
    cap = cv2.VideoCapture(str(src))
    cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
    ok, frame = cap.read()
    cap.release()
    assert ok
    encoding = encoding_to_bytes(encode_reference_photo(cv2.imencode(".jpg", frame)[1].tobytes()))
    return {"window": window.read_bytes(), "encoding": encoding}


def test_reverification_end_to_end_with_real_models(
    caller: Caller, live_server: str, openid: str, services: Any, clips: dict[str, bytes]
) -> None:
    with services.db.session() as db:
        member = db.get(Member, "m-1001")
        db.get(IdRecord, member.id_number).encoding = clips["encoding"]
    s = caller.created()
    page = complete(live_server, Phone(openid), s, video=clips["window"])
    assert "您正在确认提交：转会转所申请" in page
    polled = caller.poll(s)
    assert polled["status"] == "verified" and polled["assurance"]
    r = caller.consume(s["session_id"], payload_digest=digest({"tampered": True}))
    assert r.status_code == 409 and r.json()["error"]["code"] == "payload_mismatch"
    assert caller.poll(s)["consumed_at"] is None
    r = caller.consume(s["session_id"])
    assert r.status_code == 200, r.text
    assert r.json()["payload_digest"] == DIGEST and r.json()["member_id"] == "m-1001" and r.json()["audit_seq"] > 0
    with services.db.session() as db:
        assert db.get(Member, "m-1001").openid == openid  # unchanged: a re-verification never rebinds
