"""The desktop widget (/static/idsvc-qr.js) on the /demo page in headless Chromium at 1366×768, while a phone
(an HTTP client with WeChat's user agent) scans, confirms and uploads (issue #12)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from tests.e2e.conftest import DESKTOP_SIZE, assert_fits, js, wait_for
from tests.qr.phone import Phone

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.usefixtures("job_worker")]
RAW_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def status(drv: Any) -> str:
    return str(js(drv, "return document.getElementById('widget').dataset.status || ''"))


def widget_text(drv: Any) -> str:
    return str(drv.find_element("id", "widget").text)


def read_qr(drv: Any) -> str:
    """Read the QR the way a phone camera would: from the pixels on screen ("" while it is being
    drawn: the widget renders the panel again when its first answer arrives)."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException

    try:
        png = drv.find_element("css selector", "#widget img").screenshot_as_png
    except (NoSuchElementException, StaleElementReferenceException):
        return ""
    shot = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        text, points, _ = detector.detectAndDecode(shot)
        if points is not None and text:
            return str(text)
    return ""


def open_demo(make_browser: Any, live_server: str, before_load: str = "") -> Any:
    """The demo page once its QR is on screen; ``before_load``: a script run before the page's own."""
    drv = make_browser(DESKTOP_SIZE, phone=False)
    if before_load:
        drv.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": before_load})
    drv.get(f"{live_server}/demo")
    wait_for(lambda: status(drv) == "pending", timeout=15, what="the QR")
    wait_for(
        lambda: js(
            drv, "const i = document.querySelector('#widget img'); return i && i.complete && i.naturalWidth > 0"
        ),
        timeout=10,
    )
    return drv


@pytest.mark.model
def test_widget_goes_from_qr_to_scanned_to_verified(
    make_browser: Any, live_server: str, enrolled: str, clip_files: dict[str, Path], services: Any
) -> None:
    from idsvc.core.db import Member

    with services.db.session() as db:  # the demo page's member is the enrolled person
        m = db.get(Member, enrolled)
        id_number = m.id_number
        db.delete(m)
        db.flush()
        db.add(Member(member_id="demo-member", name="演示会员", id_number=id_number, association="11"))
    drv = open_demo(make_browser, live_server)
    assert_fits(drv, "#widget img", "#widget .t")
    scan_url = wait_for(lambda: read_qr(drv), timeout=10, what="a readable QR")
    assert scan_url.startswith(f"{live_server}/m/")
    assert "请使用微信扫一扫" in widget_text(drv)

    phone = Phone("o_widget_member")
    page = phone.scan(scan_url)
    assert page.status_code == 200
    wait_for(lambda: status(drv) == "scanned", timeout=10)
    # The QR and the scan instructions are gone; the number to tap is what remains.
    assert not drv.find_elements("css selector", "#widget img")
    number = drv.find_element("css selector", "#widget .n").text
    assert number in Phone.choices(page.text)
    sid = page.url.rsplit("/", 1)[1]
    csrf = Phone.csrf(page.text)
    assert phone.confirm(live_server, sid, number, csrf).json()["status"] == "confirmed"
    wait_for(lambda: status(drv) == "confirmed", timeout=10)
    assert "请在手机上完成人脸识别" in widget_text(drv)
    decided = phone.verify(live_server, sid, clip_files["mp4"].read_bytes(), csrf)
    assert decided["status"] == "verified", decided
    wait_for(lambda: status(drv) == "verified", timeout=10)
    assert "✓" in widget_text(drv) and "实名认证已通过" in widget_text(drv)
    assert drv.find_element("id", "result").text == "登录成功（演示）"  # the portal's onVerified ran
    assert not RAW_CODE.search(widget_text(drv))
    # It followed the session on its event stream (one request, open the whole time), not by long-polls.
    urls = js(drv, "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert [u for u in urls if "/events?version=" in u], urls
    assert not [u for u in urls if "wait=" in u], urls


def test_widget_failure_is_plain_chinese_and_offers_a_new_qr(make_browser: Any, live_server: str) -> None:
    drv = open_demo(make_browser, live_server)
    first = js(drv, "return document.getElementById('widget').dataset.session")
    phone = Phone("o_wrong_number")
    page = phone.scan(wait_for(lambda: read_qr(drv), timeout=10))
    wait_for(lambda: status(drv) == "scanned", timeout=10)
    number = drv.find_element("css selector", "#widget .n").text
    wrong = next(c for c in Phone.choices(page.text) if c != number)
    phone.confirm(live_server, page.url.rsplit("/", 1)[1], wrong, Phone.csrf(page.text))
    wait_for(lambda: status(drv) == "failed", timeout=10)
    text = widget_text(drv)
    assert "✗" in text and "手机上选择的数字不一致" in text and not RAW_CODE.search(text), text
    color = js(drv, "return getComputedStyle(document.querySelector('#widget .ic')).backgroundColor")
    assert color == "rgb(180, 35, 24)"
    drv.find_element("css selector", "#widget button.b").click()
    wait_for(lambda: status(drv) == "pending", timeout=15)
    assert js(drv, "return document.getElementById('widget').dataset.session") != first


@pytest.mark.settings(session_ttl=4)
def test_widget_expired_overlay_then_refresh_shows_a_new_qr(make_browser: Any, live_server: str) -> None:
    drv = open_demo(make_browser, live_server)
    first = js(drv, "return document.getElementById('widget').dataset.session")
    wait_for(lambda: status(drv) == "expired", timeout=15, what="the expired overlay")
    overlay = drv.find_element("css selector", "#widget .ov")
    assert overlay.text.replace("\n", "").endswith("二维码已失效，点击刷新") and overlay.is_displayed()
    assert_fits(drv, "#widget .ov")
    overlay.click()
    wait_for(lambda: js(drv, "return document.getElementById('widget').dataset.session") != first, timeout=15)
    assert status(drv) in ("pending", "expired")  # a 4-second QR may lapse again on a slow machine
    assert not RAW_CODE.search(widget_text(drv))


def test_favicon_and_widget_size(live_server: str) -> None:
    import requests

    r = requests.get(f"{live_server}/favicon.ico", timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"] == "image/png"
    size = len(requests.get(f"{live_server}/static/idsvc-qr.js", timeout=10).content)
    assert size < 16_000, size


def test_widget_says_why_there_is_no_qr_for_a_locked_member(
    make_browser: Any, live_server: str, platform_key: str, make_member: Any, app: Any
) -> None:
    """#16: the portal passes the 429 answer to the widget, which says so in Chinese, with the time."""
    import requests

    make_member(member_id="m-locked", id_record=True)
    attempts = app.extensions["idsvc.attempts"]
    for i in range(5):
        attempts.record_failure("m-locked", "face_mismatch", session_id=f"s{i}", actor="test")
    answer = requests.post(
        f"{live_server}/v1/sessions",
        json={"member_id": "m-locked"},
        headers={"Authorization": platform_key},
        timeout=10,
    )
    assert answer.status_code == 429
    drv = make_browser(DESKTOP_SIZE, phone=False)
    drv.get(f"{live_server}/demo")
    wait_for(lambda: js(drv, "return !!window.IdsvcQr"), timeout=15, what="the widget script")
    js(drv, "const e = document.createElement('div'); e.id = 'locked'; document.body.appendChild(e);"
       f" window.IdsvcQr.mount(e, {answer.text});")  # fmt: skip
    wait_for(lambda: js(drv, "return document.getElementById('locked').dataset.status") == "refused", timeout=10)
    shown = drv.find_element("id", "locked").text
    assert "失败次数过多" in shown and "后再试" in shown and "地方协会" in shown
    assert not RAW_CODE.search(shown)


def test_widget_long_polls_where_it_cannot_stream(make_browser: Any, live_server: str) -> None:
    """A browser without response streams (or a proxy that holds the stream back) still follows the
    session: the widget falls back to ?wait= long-polls."""
    drv = open_demo(make_browser, live_server, before_load="window.ReadableStream = undefined;")
    scan_url = wait_for(lambda: read_qr(drv), timeout=10, what="a readable QR")
    page = Phone("o_no_streams").scan(scan_url)
    assert page.status_code == 200
    wait_for(lambda: status(drv) == "scanned", timeout=10, what="scanned, through a long-poll")
    urls = js(drv, "return performance.getEntriesByType('resource').map(function (e) { return e.name; })")
    assert [u for u in urls if "wait=25" in u], urls
    assert not [u for u in urls if "/events?" in u], urls
