"""Per-member limits seen through the session API and the phone (#16): decisions are counted,
a locked member gets 429 verification_locked with Retry-After at session creation and at upload,
the phone page says when to try again, and an unlock lets the member in again."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from idsvc.attempts import FaceAttempts
from idsvc.qr.service import QrSessions
from idsvc.qr.verify import Analysis
from tests.qr.phone import Desktop, Phone

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("job_worker")]

FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200


@pytest.fixture
def desktop(live_server: str, platform_key: str, make_member: Any) -> Desktop:
    make_member(id_record=True)
    return Desktop(live_server, platform_key)


@pytest.fixture
def mismatching(app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    qs: QrSessions = app.extensions["idsvc.qr.sessions"]
    monkeypatch.setattr(qs, "analyser", lambda *_: Analysis(False, "face_mismatch", {}))


def confirmed(desktop: Desktop, live_server: str) -> tuple[dict[str, Any], Phone, str]:
    s = desktop.create()
    phone = Phone("o_member")
    csrf = Phone.csrf(phone.scan(s["scan_url"]).text)
    assert phone.confirm(live_server, s["session_id"], s["match_code"], csrf).json()["status"] == "confirmed"
    return s, phone, csrf


@pytest.mark.usefixtures("mismatching")
@pytest.mark.settings(face_fails_window_max=2)
def test_failed_decisions_lock_the_member_across_sessions(
    desktop: Desktop, live_server: str, app: Any, platform_key: str
) -> None:
    attempts: FaceAttempts = app.extensions["idsvc.attempts"]
    for _ in range(2):  # face_mismatch ends a session: a new session for each try
        s, phone, csrf = confirmed(desktop, live_server)
        assert phone.verify(live_server, s["session_id"], FAKE_MP4, csrf)["status"] == "failed"
    assert attempts.state("m-1001").locked
    # No new QR for a locked member; the answer says when and carries Retry-After.
    r = requests.post(
        f"{live_server}/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": platform_key}, timeout=10
    )
    assert r.status_code == 429 and r.json()["error"]["code"] == "verification_locked"
    assert 0 < int(r.headers["Retry-After"]) <= 1800
    assert r.json()["error"]["details"]["retry_after"] == int(r.headers["Retry-After"])
    assert "后再试" in r.json()["error"]["message"]
    # Unlocked by an operator: sessions again.
    unlock = requests.post(
        f"{live_server}/v1/members/m-1001/unlock",
        json={"why": "identity checked at the desk"},
        headers={"Authorization": platform_key},
        timeout=10,
    )
    assert unlock.status_code == 200
    assert desktop.create()["status"] == "pending"


@pytest.mark.usefixtures("mismatching")
def test_a_member_locked_mid_session_cannot_upload(desktop: Desktop, live_server: str, app: Any) -> None:
    s, phone, csrf = confirmed(desktop, live_server)
    attempts: FaceAttempts = app.extensions["idsvc.attempts"]
    for i in range(5):
        attempts.record_failure("m-1001", "face_mismatch", session_id=f"other-{i}", actor="test")
    r = phone.upload(live_server, s["session_id"], FAKE_MP4, csrf)
    assert r.status_code == 429 and r.json()["error"]["code"] == "verification_locked"
    assert desktop.poll(s).json()["attempts"] == 0  # refused before any attempt was used
    # The phone page (HTML) says it in Chinese, with when to try again and whom to contact.
    page = phone.http.post(
        f"{live_server}/m/sessions/{s['session_id']}/video",
        files={"video": ("v.mp4", FAKE_MP4, "video/mp4")},
        headers={"X-CSRF-Token": csrf},
        timeout=10,
    )
    assert page.status_code == 429 and "后再试" in page.text and "地方协会" in page.text


def test_media_problems_do_not_count(desktop: Desktop, live_server: str, app: Any, monkeypatch: Any) -> None:
    qs: QrSessions = app.extensions["idsvc.qr.sessions"]
    monkeypatch.setattr(qs, "analyser", lambda *_: Analysis(False, "too_dark", {}))
    s, phone, csrf = confirmed(desktop, live_server)
    for _ in range(3):
        phone.verify(live_server, s["session_id"], FAKE_MP4, csrf)
    state = app.extensions["idsvc.attempts"].state("m-1001")
    assert state.failures_today == 0 and not state.locked
