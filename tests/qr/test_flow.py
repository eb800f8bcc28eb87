"""The whole desktop ↔ phone flow over real HTTP: idsvc and mock WeChat on loopback, real Redis and SQL."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np
import pytest
import requests

from tests.qr.phone import Desktop, Phone

pytestmark = pytest.mark.integration


def decode_qr(png: bytes) -> str:
    img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    text, points, _ = cv2.QRCodeDetector().detectAndDecode(img)
    assert points is not None and text, "OpenCV could not read the QR code"
    return text


class Waiter:
    """A desktop long-poll running in a thread; records when it woke."""

    def __init__(self, desktop: Desktop, s: dict[str, Any], version: int, wait: int = 20) -> None:
        self.result: dict[str, Any] = {}
        self.woke_at = 0.0

        def run() -> None:
            r = desktop.poll(s, wait=wait, version=version)
            self.woke_at = time.monotonic()
            self.result = {"status_code": r.status_code, **r.json()}

        self.thread = threading.Thread(target=run)
        self.thread.start()
        time.sleep(0.3)  # let it reach the server and start waiting

    def join(self) -> dict[str, Any]:
        self.thread.join(30)
        return self.result


def test_full_flow_with_long_poll_waking_fast(desktop: Desktop, live_server: str, services: Any) -> None:
    s = desktop.create()
    assert s["status"] == "pending" and s["version"] == 1
    assert s["scan_url"].startswith(f"{live_server}/m/")
    png = requests.get(s["qr_png_url"], timeout=10)
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert decode_qr(png.content) == s["scan_url"]
    svg = requests.get(s["qr_svg_url"], timeout=10)
    assert svg.status_code == 200 and b"<svg" in svg.content

    phone = Phone("o_member_phone")
    waiter = Waiter(desktop, s, version=1)
    page = phone.scan(s["scan_url"])
    changed_at = time.monotonic()
    assert page.status_code == 200, page.text
    first = waiter.join()
    assert first["status"] == "scanned" and first["version"] == 2
    assert waiter.woke_at - changed_at < 0.2

    assert "203.0.113.7" in page.text and "Chrome" in page.text
    choices = Phone.choices(page.text)
    assert len(choices) == 3 and s["match_code"] in choices

    waiter = Waiter(desktop, s, version=2)
    t0 = time.monotonic()
    r = phone.confirm(live_server, s["session_id"], s["match_code"], Phone.csrf(page.text))
    t1 = time.monotonic()
    assert r.status_code == 200 and r.json()["status"] == "confirmed"
    second = waiter.join()
    assert second["status"] == "confirmed"
    assert waiter.woke_at - t1 < 0.2 or waiter.woke_at - t0 < 0.2

    # The phone page now says it is ready to record; polling without wait answers at once.
    assert "已确认" in phone.open(f"{live_server}/m/s/{s['session_id']}").text
    assert desktop.poll(s).json()["status"] == "confirmed"

    from idsvc.core import audit

    with services.db.session() as db:
        events = [e.event for e in db.query(audit.AuditEntry).order_by(audit.AuditEntry.seq)]
        assert {"session.created", "session.scanned", "session.confirmed"} <= set(events)
        assert audit.verify(db).ok


def test_long_poll_answers_at_once_when_version_differs(desktop: Desktop) -> None:
    s = desktop.create()
    t0 = time.monotonic()
    r = desktop.poll(s, wait=20, version=0)
    assert r.status_code == 200 and r.json()["version"] == 1
    assert time.monotonic() - t0 < 10  # behaviour, not latency: far less than its 20 s wait
    assert r.headers["Cache-Control"] == "no-store"


def test_long_poll_times_out_without_change(desktop: Desktop) -> None:
    s = desktop.create()
    t0 = time.monotonic()
    r = desktop.poll(s, wait=1, version=1)
    elapsed = time.monotonic() - t0
    assert r.status_code == 200 and r.json()["status"] == "pending"
    assert elapsed >= 0.9  # it did wait its second (how fast it answers is the load test's business)


def test_wrong_match_number_fails_session(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_someone")
    page = phone.scan(s["scan_url"])
    wrong = next(c for c in Phone.choices(page.text) if c != s["match_code"])
    r = phone.confirm(live_server, s["session_id"], wrong, Phone.csrf(page.text))
    assert r.status_code == 200 and r.json()["status"] == "failed"
    assert desktop.poll(s).json()["failure_reason"] == "match_code_mismatch"
    # And the right number afterwards cannot revive it.
    r = phone.confirm(live_server, s["session_id"], s["match_code"], Phone.csrf(page.text))
    assert r.status_code == 409


def test_confirm_by_html_form(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_form_user")
    page = phone.scan(s["scan_url"])
    r = phone.confirm(live_server, s["session_id"], s["match_code"], Phone.csrf(page.text), as_json=False)
    assert r.status_code == 302
    assert desktop.poll(s).json()["status"] == "confirmed"


def test_confirm_needs_csrf_token(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_csrf")
    phone.scan(s["scan_url"])
    r = phone.confirm(live_server, s["session_id"], s["match_code"], "forged")
    assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
    assert desktop.poll(s).json()["status"] == "scanned"


def test_confirm_from_another_browser_is_refused(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_owner")
    page = phone.scan(s["scan_url"])
    intruder = Phone("o_intruder")
    r = intruder.confirm(live_server, s["session_id"], s["match_code"], Phone.csrf(page.text))
    assert r.status_code == 403
    assert desktop.poll(s).json()["status"] == "scanned"


def test_bad_match_code_types(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_types")
    page = phone.scan(s["scan_url"])
    csrf = Phone.csrf(page.text)
    for bad in (None, [], {"a": 1}, "abc", "12345", True):
        r = phone.http.post(
            f"{live_server}/m/sessions/{s['session_id']}/confirm",
            json={"match_code": bad},
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
            timeout=10,
        )
        assert r.status_code == 400, (bad, r.text)
        assert r.json()["error"]["code"] == "invalid_input"
    r = phone.http.post(
        f"{live_server}/m/sessions/{s['session_id']}/confirm",
        data=b"{not json",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json", "Accept": "application/json"},
        timeout=10,
    )
    assert r.status_code == 400
    assert desktop.poll(s).json()["status"] == "scanned"


def test_non_wechat_browser_gets_hint_page(desktop: Desktop) -> None:
    s = desktop.create()
    r = requests.get(
        s["scan_url"], headers={"User-Agent": "Mozilla/5.0 (iPhone) Safari/604.1"}, allow_redirects=False, timeout=10
    )
    assert r.status_code == 403
    assert "请使用微信扫一扫" in r.text
    assert r.headers["Content-Type"].startswith("text/html")


def test_tampered_scan_token(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    token = s["scan_url"].rsplit("/", 1)[1]
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    r = Phone("o_x").open(f"{live_server}/m/{tampered}")
    assert r.status_code == 400 and "二维码无效" in r.text


def test_double_scan_two_phones_concurrently_exactly_one_wins(desktop: Desktop) -> None:
    s = desktop.create()
    phones = [Phone(f"o_racer_{i}") for i in range(6)]
    # Each phone first gets its own OAuth state and code, then all callbacks land at once.
    callbacks = []
    for p in phones:
        r = p.open(s["scan_url"])
        auth = p.open(r.headers["Location"].split("#")[0])
        callbacks.append(auth.headers["Location"])
    barrier = threading.Barrier(len(phones))

    def land(i: int) -> int:
        barrier.wait()
        return phones[i].open(callbacks[i]).status_code

    with ThreadPoolExecutor(len(phones)) as pool:
        codes = list(pool.map(land, range(len(phones))))
    assert sorted(codes) == [302] + [409] * (len(phones) - 1), codes
    loser = phones[codes.index(409)]
    again = loser.open(callbacks[codes.index(409)])
    assert again.status_code == 409 and "二维码已被其他微信扫描" in again.text
    assert desktop.poll(s).json()["status"] == "scanned"


def test_second_phone_sees_chinese_409_page(desktop: Desktop) -> None:
    s = desktop.create()
    assert Phone("o_first").scan(s["scan_url"]).status_code == 200
    r = Phone("o_second").scan(s["scan_url"])
    assert r.status_code == 409
    assert "二维码已被其他微信扫描" in r.text


def test_duplicate_oauth_callback_is_idempotent(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_dup")
    page = phone.scan(s["scan_url"])
    assert page.status_code == 200
    again = phone.open(phone.last_callback)  # WeChat delivers the same callback a second time
    assert again.status_code == 302, again.text
    assert (
        phone.open(
            f"{live_server}{again.headers['Location']}"
            if again.headers["Location"].startswith("/")
            else again.headers["Location"]
        ).status_code
        == 200
    )
    assert desktop.poll(s).json()["status"] == "scanned"


def test_replayed_state_with_another_code_is_refused(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_replay")
    phone.scan(s["scan_url"])
    forged = phone.last_callback.replace("code=", "code=X")
    r = phone.open(forged)
    assert r.status_code == 400 and "授权请求无效" in r.text
    # A state we never issued, and a missing one:
    assert phone.open(f"{live_server}/m/oauth/callback?code=abc&state=nope").status_code == 400
    assert phone.open(f"{live_server}/m/oauth/callback").status_code == 400


def test_cancel_by_poll_token_and_by_platform_key(desktop: Desktop, live_server: str, platform_key: str) -> None:
    s = desktop.create()
    r = requests.delete(
        f"{live_server}/v1/sessions/{s['session_id']}",
        headers={"Authorization": f"Bearer {s['poll_token']}"},
        timeout=10,
    )
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    s2 = desktop.create()
    r = requests.delete(
        f"{live_server}/v1/sessions/{s2['session_id']}", headers={"Authorization": platform_key}, timeout=10
    )
    assert r.json()["status"] == "cancelled"
    # A cancelled session's QR no longer leads anywhere.
    assert Phone("o_late").scan(s2["scan_url"]).status_code == 409
    r = requests.delete(
        f"{live_server}/v1/sessions/{s2['session_id']}", headers={"Authorization": platform_key}, timeout=10
    )
    assert r.status_code == 409


@pytest.mark.settings(session_ttl=1)
def test_expiry(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    waiter = Waiter(desktop, s, version=1, wait=10)
    first = waiter.join()
    assert first["status"] == "expired"  # the long-poll wakes at expiry, not at its 10 s deadline
    assert desktop.poll(s).json()["status"] == "expired"
    r = Phone("o_late").scan(s["scan_url"])
    assert r.status_code == 410 and "二维码已过期" in r.text
    assert requests.get(s["qr_png_url"], timeout=10).status_code == 410


def test_poll_token_checks(desktop: Desktop, live_server: str, make_key: Any) -> None:
    s = desktop.create()
    assert desktop.poll(s, token="wrong").status_code == 403
    r = requests.get(f"{live_server}/v1/sessions/{s['session_id']}", timeout=10)
    assert r.status_code == 403 and r.json()["error"]["code"] == "invalid_poll_token"
    other = desktop.create()
    assert desktop.poll(s, token=other["poll_token"]).status_code == 403
    assert desktop.poll({"session_id": "nope", "poll_token": "x"}).status_code == 404
    local = make_key("local", "11")
    r = requests.get(f"{live_server}/v1/sessions/{s['session_id']}", headers={"Authorization": local}, timeout=10)
    assert r.status_code == 403
    for bad in ({"wait": "x"}, {"wait": 31}, {"wait": -1}, {"version": "v"}):
        r = requests.get(
            f"{live_server}/v1/sessions/{s['session_id']}",
            params=bad,
            headers={"Authorization": f"Bearer {s['poll_token']}"},
            timeout=10,
        )
        assert r.status_code == 400, bad


def test_other_openid_than_bound_is_allowed_but_audited(desktop: Desktop, services: Any) -> None:
    from idsvc.core.db import AuditEntry, Member

    with services.db.session() as db:
        db.get(Member, "m-1001").openid = "o_bound_phone"
    s = desktop.create()
    assert Phone("o_new_phone").scan(s["scan_url"]).status_code == 200
    with services.db.session() as db:
        events = [e for e in db.query(AuditEntry) if e.event == "session.openid_mismatch"]
        assert len(events) == 1 and events[0].subject == f"session:{s['session_id']}"
    s2 = desktop.create()
    assert Phone("o_bound_phone").scan(s2["scan_url"]).status_code == 200
    with services.db.session() as db:
        assert sum(e.event == "session.openid_mismatch" for e in db.query(AuditEntry)) == 1


def test_reopening_the_qr_before_authorising_restarts_oauth(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    phone = Phone("o_twice")
    first = phone.open(s["scan_url"])
    assert first.status_code == 302 and "oauth2/authorize" in first.headers["Location"]
    again = phone.open(s["scan_url"])  # the cookie names the session but no openid yet
    assert again.status_code == 302 and "oauth2/authorize" in again.headers["Location"]
    assert phone.scan(s["scan_url"]).status_code == 200
    # Once scanned, reopening the QR goes straight back to the phone page.
    assert phone.open(s["scan_url"]).headers["Location"].endswith(f"/m/s/{s['session_id']}")


def test_scan_page_is_rate_limited(desktop: Desktop) -> None:
    s = desktop.create()
    phone = Phone("o_spam")
    codes = [phone.open(s["scan_url"]).status_code for _ in range(35)]
    assert codes[:30] == [302] * 30 and codes[-1] == 429
