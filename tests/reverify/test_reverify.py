"""Re-verification before submission (#13) over HTTP, with the real mock WeChat, Redis and SQL.

The analysis is monkeypatched to pass (the real models run in test_reverify_e2e.py).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests
from click.testing import CliRunner

import idsvc.cli
from idsvc.core.clock import FixedClock
from idsvc.core.db import AuditEntry, Member
from idsvc.qr import service
from idsvc.qr.verify import Analysis
from tests.qr.phone import Phone
from tests.reverify.conftest import DIGEST, FAKE_MP4, TEMPLATE, Caller, complete, delivered, digest

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("passing_analyser")]


@pytest.fixture
def passing_analyser(app: Any, monkeypatch: pytest.MonkeyPatch, job_worker: None) -> None:
    qs = app.extensions[service.EXTENSION]
    monkeypatch.setattr(qs, "analyser", lambda *_: Analysis(True, None, {"message": "验证通过"}))


@pytest.fixture
def clock(app: Any, monkeypatch: pytest.MonkeyPatch) -> FixedClock:
    """The sessions' clock, moved by the test (re-verifications read the same clock)."""
    fixed = FixedClock(time.time())
    monkeypatch.setattr(app.extensions[service.EXTENSION], "clock", fixed)
    return fixed


def error(r: requests.Response) -> tuple[int, str]:
    return r.status_code, r.json()["error"]["code"]


def test_create_answers_like_a_session_bound_to_the_form(caller: Caller) -> None:
    s = caller.created()
    assert s["purpose"] == "reverify" and s["status"] == "pending"
    assert s["action"] == "transfer.submit" and s["action_label"] == "转会转所申请" and s["payload_digest"] == DIGEST
    assert s["scan_url"] and s["poll_token"] and s["match_code"] and s["qr_png_url"]
    assert caller.poll(s)["action"] == "transfer.submit"


def test_full_flow_then_consume_once_with_proof(caller: Caller, live_server: str, openid: str, services: Any) -> None:
    s = caller.created()
    page = complete(live_server, Phone(openid), s)
    assert "您正在确认提交：转会转所申请" in page and "transfer" in page  # the action and the calling service
    assert "203.0.113.7" in page and "Chrome" in page  # the desktop's address and browser
    r = caller.consume(s["session_id"])
    assert r.status_code == 200, r.text
    proof = r.json()
    assert proof["member_id"] == "m-1001" and proof["action"] == "transfer.submit"
    assert proof["payload_digest"] == DIGEST and proof["verified_at"] and proof["consumed_at"]
    with services.db.session() as db:
        entry = db.get(AuditEntry, proof["audit_seq"])
        assert entry.event == "reverification.consumed" and entry.data["payload_digest"] == DIGEST
        assert db.get(AuditEntry, proof["verification_audit_seq"]).event == "session.verified"
    assert error(caller.consume(s["session_id"])) == (409, "already_consumed")


@pytest.mark.parametrize(
    ("action", "payload"),
    [("transfer.submit", digest({"to_firm": "另一家"})), ("resign.submit", DIGEST)],
)
def test_other_digest_or_action_is_refused_and_stays_unconsumed(
    caller: Caller, live_server: str, openid: str, action: str, payload: str
) -> None:
    s = caller.created()
    complete(live_server, Phone(openid), s)
    assert error(caller.consume(s["session_id"], action, payload)) == (409, "payload_mismatch")
    assert caller.poll(s)["consumed_at"] is None
    assert caller.consume(s["session_id"]).status_code == 200


def test_consume_before_verified_is_409(caller: Caller) -> None:
    s = caller.created()
    assert error(caller.consume(s["session_id"])) == (409, "not_verified")


def test_another_services_key_cannot_consume_but_platform_can(
    caller: Caller, live_server: str, openid: str, make_key: Any, platform_key: str
) -> None:
    s = caller.created()
    complete(live_server, Phone(openid), s)
    other = make_key("service", name="registration")
    assert error(caller.consume(s["session_id"], key=other)) == (404, "reverification_not_found")
    assert error(caller.consume("no-such-id", key=other)) == (404, "reverification_not_found")
    assert caller.poll(s)["consumed_at"] is None
    assert caller.consume(s["session_id"], key=platform_key).status_code == 200


def test_service_key_may_do_nothing_else(caller: Caller, live_server: str) -> None:
    r = requests.post(
        f"{live_server}/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": caller.key}, timeout=10
    )
    assert error(r) == (403, "wrong_role")
    r = requests.get(f"{live_server}/v1/members/m-1001", headers={"Authorization": caller.key}, timeout=10)
    assert r.status_code == 403


def test_a_plain_session_is_not_a_reverification(caller: Caller, live_server: str, platform_key: str) -> None:
    r = requests.post(
        f"{live_server}/v1/sessions",
        json={"member_id": "m-1001", "purpose": "reverify"},
        headers={"Authorization": platform_key},
        timeout=10,
    )
    assert error(caller.consume(r.json()["session_id"], key=platform_key)) == (404, "reverification_not_found")


def test_strangers_wechat_gets_403_page_and_session_stays_pending(
    caller: Caller, live_server: str, openid: str, services: Any
) -> None:
    s = caller.created()
    stranger = Phone("o_stranger_" + openid)
    page = stranger.scan(s["scan_url"])
    assert page.status_code == 403 and "请使用本人绑定的微信扫码" in page.text
    assert 'data-code="not_bound_wechat"' in page.text
    assert caller.poll(s)["status"] == "pending"
    with services.db.session() as db:
        assert any(e.event == "reverification.wrong_wechat" for e in db.query(AuditEntry))
    complete(live_server, Phone(openid), s)
    assert caller.consume(s["session_id"]).status_code == 200


def test_max_age_reuses_a_recent_verification_at_its_edges(
    caller: Caller, live_server: str, openid: str, clock: FixedClock
) -> None:
    s = caller.created()
    complete(live_server, Phone(openid), s)
    verified_at = caller.poll(s)["verified_at"]
    clock.advance(30)
    r = caller.create(max_age=30)  # verified exactly 30 s ago: within max_age
    assert r.status_code == 200 and r.json()["session_id"] == s["session_id"] and r.json()["reused"] is True
    assert r.json()["verified_at"] == verified_at and "poll_token" not in r.json()
    r = caller.create(max_age=29)  # 30 s > 29: a fresh verification
    assert r.status_code == 201 and r.json()["session_id"] != s["session_id"]
    assert caller.create(max_age=0).status_code == 201  # the default: always fresh
    assert caller.create(max_age=30, payload_digest=digest({"x": 1})).status_code == 201  # another form
    assert caller.create(max_age=30, action="resign.submit").status_code == 201  # another action


def test_max_age_does_not_hand_out_a_consumed_or_foreign_verification(
    caller: Caller, live_server: str, openid: str, make_key: Any, clock: FixedClock
) -> None:
    s = caller.created()
    complete(live_server, Phone(openid), s)
    other = Caller(live_server, make_key("service", name="registration"))
    assert other.create(max_age=60).status_code == 201  # not another service's verification
    assert caller.consume(s["session_id"]).status_code == 200
    assert caller.create(max_age=60).status_code == 201  # used up


def test_consume_validity_edges(caller: Caller, live_server: str, openid: str, clock: FixedClock) -> None:
    first, second = caller.created(), caller.created()
    phone = Phone(openid)
    complete(live_server, phone, first)
    complete(live_server, Phone(openid), second)
    clock.advance(120)  # IDSVC_REVERIFY_VALIDITY (default 120 s): still valid at the edge
    assert caller.consume(first["session_id"]).status_code == 200
    clock.advance(1)
    r = caller.consume(second["session_id"])
    assert error(r) == (409, "verification_stale") and "120" in r.json()["error"]["message_en"]
    assert caller.poll(second)["consumed_at"] is None


def test_refusals_before_any_qr(live_server: str, service_key: str, make_member: Any, services: Any) -> None:
    rv = Caller(live_server, service_key)
    assert error(rv.create("nobody")) == (404, "member_not_found")
    make_member()
    assert error(rv.create()) == (409, "wechat_not_bound")
    with services.db.session() as db:
        db.get(Member, "m-1001").openid = "o_bound_no_record"
    assert error(rv.create()) == (409, "id_record_not_found")
    with services.db.session() as db:
        assert not [e for e in db.query(AuditEntry) if e.event == "session.created"]


@pytest.mark.settings(face_fails_window_max=1)
def test_locked_member_gets_429(caller: Caller, app: Any) -> None:
    app.extensions["idsvc.attempts"].record_failure("m-1001", "face_mismatch", session_id="x", actor="test")
    assert error(caller.create()) == (429, "verification_locked")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "Transfer Submit"}, "action"),
        ({"action": "unknown.thing"}, "action_label"),
        ({"payload_digest": "abc"}, "payload_digest"),
        ({"payload_digest": 7}, "payload_digest"),
        ({"max_age": -1}, "max_age"),
        ({"max_age": "30"}, "max_age"),
        ({"max_age": True}, "max_age"),
        ({"notify": "sms"}, "notify"),
        ({"action_label": ""}, "action_label"),
    ],
)
def test_bad_input_is_400(caller: Caller, body: dict[str, Any], field: str) -> None:
    r = caller.create(**body)
    assert error(r) == (400, "invalid_input") and field in r.json()["error"]["message_en"]


def test_unknown_action_with_a_label_is_shown(caller: Caller, live_server: str, openid: str) -> None:
    s = caller.created(action="firm.merge", action_label="合并事务所申请")
    page = Phone(openid).scan(s["scan_url"])
    assert "您正在确认提交：合并事务所申请" in page.text


def test_push_reaches_the_bound_wechat_and_its_link_completes(
    caller: Caller, live_server: str, openid: str, wechat_server: str
) -> None:
    s = caller.created(notify="wechat")
    assert s["notified"]["sent"] is True and s["notified"]["msgid"]
    (message,) = delivered(wechat_server, openid)
    assert message["template_id"] == TEMPLATE and message["url"] == s["scan_url"]
    assert message["data"]["first"]["value"] == "您正在确认提交：转会转所申请"
    complete(live_server, Phone(openid), s, url=message["url"])
    assert caller.consume(s["session_id"]).status_code == 200


def test_push_survives_token_expiry_with_one_refresh(
    caller: Caller, openid: str, wechat_server: str, services: Any, app: Any
) -> None:
    caller.created(notify="wechat")
    mp = app.extensions["idsvc.reverify"].mp
    token = services.store.get_json(mp.token_key)["access_token"]
    r = requests.post(f"{wechat_server}/_mock/mp/tokens/expire", json={"access_token": token}, timeout=10)
    assert r.json()["expired"] == 1
    s = caller.created(notify="wechat")  # the cached token is refused (42001): refreshed once, resent
    assert s["notified"]["sent"] is True
    assert services.store.get_json(mp.token_key)["access_token"] != token
    assert len(delivered(wechat_server, openid)) == 2


def test_push_to_a_non_follower_falls_back_to_the_qr(caller: Caller, openid: str, wechat_server: str) -> None:
    r = requests.post(f"{wechat_server}/_mock/mp/subscribers", json={"openid": openid, "subscribed": False}, timeout=10)
    assert r.status_code == 200
    try:
        s = caller.created(notify="wechat")
    finally:
        requests.post(f"{wechat_server}/_mock/mp/subscribers", json={"openid": openid, "subscribed": True}, timeout=10)
    assert s["notified"]["sent"] is False and s["notified"]["error"]["code"] == "wechat_not_subscribed"
    assert s["status"] == "pending" and s["scan_url"]


def test_push_without_template_is_reported(caller: Caller, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rv = app.extensions["idsvc.reverify"]
    monkeypatch.setattr(rv, "settings", rv.settings.replace(wechat_template_id=""))
    s = caller.created(notify="wechat")
    assert s["notified"]["error"]["code"] == "wechat_push_not_configured"


def test_unbind_then_the_next_login_binds_the_new_phone(
    caller: Caller, live_server: str, openid: str, platform_key: str, services: Any
) -> None:
    pending = caller.created()
    url = f"{live_server}/v1/members/m-1001/wechat"
    r = requests.delete(url, json={"reason": "换了手机"}, headers={"Authorization": caller.key}, timeout=10)
    assert error(r) == (403, "wrong_role")
    r = requests.delete(url, json={}, headers={"Authorization": platform_key}, timeout=10)
    assert error(r) == (400, "invalid_input")
    r = requests.delete(url, json={"reason": "换了手机"}, headers={"Authorization": platform_key}, timeout=10)
    assert r.status_code == 200 and pending["session_id"] in r.json()["cancelled_sessions"]
    with services.db.session() as db:
        assert db.get(Member, "m-1001").openid is None
        (entry,) = [e for e in db.query(AuditEntry) if e.event == "member.openid_unbound"]
        assert entry.actor == "platform:test-platform" and entry.data["reason"] == "换了手机"
    assert error(caller.create()) == (409, "wechat_not_bound")
    r = requests.delete(url, json={"reason": "again"}, headers={"Authorization": platform_key}, timeout=10)
    assert error(r) == (409, "wechat_not_bound")
    # The next successful login verification binds the new phone.
    login = requests.post(
        f"{live_server}/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": platform_key}, timeout=10
    ).json()
    new_phone = Phone("o_new_" + openid)
    complete(live_server, new_phone, login)
    with services.db.session() as db:
        assert db.get(Member, "m-1001").openid == new_phone.openid
    s = caller.created()
    complete(live_server, new_phone, s)
    assert caller.consume(s["session_id"]).status_code == 200


def test_cli_creates_a_service_key(services: Any) -> None:
    result = CliRunner().invoke(
        idsvc.cli.cli, ["apikey", "create", "--role", "service", "--name", "transfer"], obj=services
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("idsvc_")


def test_openapi_documents_the_endpoints(live_server: str) -> None:
    doc = requests.get(f"{live_server}/v1/openapi.json", timeout=10).json()
    assert "post" in doc["paths"]["/v1/reverifications"]
    assert "post" in doc["paths"]["/v1/reverifications/{session_id}/consume"]
    assert "delete" in doc["paths"]["/v1/members/{member_id}/wechat"]


def test_fake_video_constant_is_a_video() -> None:
    from idsvc.qr.verify import sniff_video

    assert sniff_video(FAKE_MP4) == ".mp4"
