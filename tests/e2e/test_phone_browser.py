"""The member's phone page in headless Chromium: WeChat user agent, OAuth via mock WeChat, tap the number,
record 3 s with MediaRecorder from a fake camera fed by a real selfie clip (issue #12)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.e2e.conftest import PHONE_SIZES, assert_fits, end_code, js, phase, wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.integration,
    pytest.mark.model,
    pytest.mark.slow,
    pytest.mark.usefixtures("job_worker"),
]


def create(live_server: str, platform_key: str, purpose: str = "login") -> dict[str, Any]:
    r = requests.post(
        f"{live_server}/v1/sessions",
        json={
            "member_id": "m-1001",
            "purpose": purpose,
            "desktop": {
                "ip": "203.0.113.7",
                "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
            },
        },
        headers={"Authorization": platform_key},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def poll(live_server: str, s: dict[str, Any]) -> dict[str, Any]:
    return dict(
        requests.get(
            f"{live_server}/v1/sessions/{s['session_id']}",
            headers={"Authorization": f"Bearer {s['poll_token']}"},
            timeout=10,
        ).json()
    )


def scan_and_confirm(drv: Any, s: dict[str, Any]) -> None:
    """Open the QR's URL (→ mock WeChat OAuth → the confirm page) and tap the desktop's number."""
    from selenium.webdriver.common.by import By

    drv.get(s["scan_url"])
    buttons = drv.find_elements(By.CSS_SELECTOR, "button[name=match_code]")
    assert len(buttons) == 3 and sorted(b.text for b in buttons) == sorted(b.get_attribute("value") for b in buttons)
    next(b for b in buttons if b.text == s["match_code"]).click()
    wait_for(lambda: js(drv, "return !!document.getElementById('capture-config')"), what="the capture view")


def camera_ready(drv: Any) -> None:
    wait_for(lambda: phase(drv) == "ready", timeout=30, what="the camera preview (phase ready)")
    assert js(drv, "return !document.getElementById('record').disabled")


def record(drv: Any) -> None:
    camera_ready(drv)
    drv.find_element("id", "record").click()


def outcome(drv: Any, timeout: float = 60) -> str:
    return str(
        wait_for(
            lambda: js(drv, "return document.body.dataset.verify || null"), timeout=timeout, what="the phone's outcome"
        )
    )


def member_text(drv: Any) -> str:
    """What the member can read: the page's text without the collapsed 技术信息."""
    return str(
        js(
            drv,
            "const c = document.body.cloneNode(true); c.querySelectorAll('details#tech, script, template')"
            ".forEach(n => n.remove()); return c.innerText",
        )
    )


def test_happy_path_shows_the_countdown_the_ring_and_upload_progress(
    make_browser: Any, live_server: str, platform_key: str, enrolled: str, tmp_path: Path
) -> None:
    drv = make_browser((390, 844))
    s = create(live_server, platform_key, purpose="transfer")
    drv.get(s["scan_url"])
    # Who is asking, in the member's terms: the purpose, the desktop's browser, China time; the IP in details.
    who = drv.find_element("id", "who").text
    assert "会员转所" in who and "Chrome 浏览器（Windows 电脑）" in who and "北京时间" in who
    assert js(drv, "return document.documentElement.lang") == "zh-CN"
    scan_and_confirm(drv, s)
    assert drv.find_element("id", "instruction").text == "请眨眨眼"
    record(drv)
    assert outcome(drv) == "verified", (js(drv, "return document.body.dataset.trail"), poll(live_server, s))
    trail = js(drv, "return document.body.dataset.trail")
    assert "ready countdown recording uploading verifying" in trail, trail
    assert js(drv, "return document.body.dataset.countdownSeen") == "321"
    assert js(drv, "return document.body.dataset.progress") == "100"
    assert end_code(drv) == "verified" and "验证成功" in drv.find_element("id", "end").text
    assert poll(live_server, s)["status"] == "verified"
    assert js(drv, "return document.getElementById('close').getBoundingClientRect().height") >= 44


def test_network_failure_then_the_same_recording_again_without_losing_an_attempt(
    make_browser: Any, live_server: str, platform_key: str, enrolled: str
) -> None:
    drv = make_browser((390, 844))
    s = create(live_server, platform_key)
    scan_and_confirm(drv, s)
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/video"]})
    record(drv)
    wait_for(lambda: phase(drv) == "neterror", timeout=40, what="the network-error state")
    assert "网络不稳定" in drv.find_element("id", "phase-text").text
    assert drv.find_element("id", "reupload").is_displayed() and not drv.find_element("id", "record").is_displayed()
    before = poll(live_server, s)
    assert before["status"] == "confirmed" and before["attempts"] == 0
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
    drv.find_element("id", "reupload").click()
    assert outcome(drv) == "verified", (js(drv, "return document.body.dataset.trail"), poll(live_server, s))
    after = poll(live_server, s)
    assert after["status"] == "verified" and after["attempts"] == 1


def test_a_failed_action_shows_the_retry_card_with_the_new_action(
    make_browser: Any, live_server: str, platform_key: str, enrolled: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import idsvc.liveness.challenges as challenges

    asked = itertools.chain(["turn_left"], itertools.repeat("blink"))  # the clip blinks; it never turns its head
    monkeypatch.setattr(challenges, "pick_challenge", lambda enabled, rng=None: next(asked))
    drv = make_browser((320, 568))
    s = create(live_server, platform_key)
    scan_and_confirm(drv, s)
    assert drv.find_element("id", "instruction").text == "请向左转头，再转回正面"
    record(drv)
    assert outcome(drv) == "retry"
    card = drv.find_element("id", "retry-card")
    assert card.is_displayed() and card.get_attribute("data-reason") == "challenge_not_performed"
    assert drv.find_element("id", "retry-reason").text == "没有看到要求的动作"
    assert drv.find_element("id", "retry-next").text == "请眨眨眼" == drv.find_element("id", "instruction").text
    assert drv.find_element("id", "retry-button").text == "再试一次（还剩 2 次）"
    assert_fits(drv, "#retry-card", "#retry-button", "#phase-text", min_tap=44)
    assert "turn_left" not in member_text(drv) and "challenge_not_performed" not in member_text(drv)
    drv.find_element("id", "retry-button").click()
    record(drv)
    try:
        wait_for(lambda: end_code(drv) or js(drv, "return document.body.dataset.verify") == "retry", timeout=60)
    except AssertionError:
        raise AssertionError((js(drv, "return document.body.dataset.trail"), drv.get_log("browser"))) from None
    assert end_code(drv) == "verified", (js(drv, "return document.body.dataset.trail"), poll(live_server, s))


@pytest.mark.settings(session_ttl=20)
def test_expiry_during_capture_ends_with_the_expired_page(
    make_browser: Any, live_server: str, platform_key: str, enrolled: str
) -> None:
    drv = make_browser((390, 844))
    s = create(live_server, platform_key)
    scan_and_confirm(drv, s)
    camera_ready(drv)
    # Too little time left to count down and record: the page refuses to start instead of failing later.
    wait_for(lambda: int(js(drv, "return +document.getElementById('remaining').dataset.left")) < 8, timeout=25)
    wait_for(lambda: js(drv, "return document.getElementById('record').disabled"), timeout=2)
    assert "时间不够" in drv.find_element("id", "record").text
    assert wait_for(lambda: end_code(drv), timeout=25) == "session_expired"
    assert drv.find_element("id", "end-title").text == "二维码已过期"
    assert js(drv, "return !document.getElementById('preview')")  # the capture view and its camera are gone
    assert poll(live_server, s)["status"] == "expired"


def test_camera_denied_offers_the_system_camera_with_guidance_above_the_controls(
    make_browser: Any, live_server: str, platform_key: str, enrolled: str, clip_files: dict[str, Path]
) -> None:
    drv = make_browser((320, 568), allow_camera=False)
    s = create(live_server, platform_key)
    drv.get(s["scan_url"])
    drv.execute_cdp_cmd(
        "Browser.setPermission", {"permission": {"name": "camera"}, "setting": "denied", "origin": live_server}
    )
    scan_and_confirm(drv, s)
    wait_for(lambda: phase(drv) == "fallback", timeout=20, what="the fallback")
    box = drv.find_element("id", "fallback")
    assert box.get_attribute("data-reason") == "camera_denied"
    assert drv.find_element("id", "fallback-title").text == "没有摄像头权限"
    steps = drv.find_element("id", "fallback-steps").text
    assert "允许使用摄像头" in steps and "下面" in steps
    assert_fits(drv, "#fallback-title", "#camera-again", "#file-label", min_tap=44)
    # The guidance points down, and the controls are indeed below it.
    top = js(drv, "return document.getElementById('fallback-steps').getBoundingClientRect().bottom")
    assert js(drv, "return document.getElementById('file-label').getBoundingClientRect().top") > top
    assert drv.find_element("id", "file").get_attribute("capture") == "user"
    drv.find_element("id", "file").send_keys(str(clip_files["mp4"]))
    assert wait_for(lambda: end_code(drv), timeout=60) == "verified"


@pytest.mark.parametrize("size", PHONE_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_layout_fits_the_phone(
    make_browser: Any, live_server: str, platform_key: str, enrolled: str, size: tuple[int, int], tmp_path: Path
) -> None:
    drv = make_browser(size)
    s = create(live_server, platform_key)
    drv.get(s["scan_url"])
    assert_fits(drv, "#who", "button[name=match_code]", min_tap=44)
    font = js(drv, "return parseFloat(getComputedStyle(document.querySelector('#who dd')).fontSize)")
    assert font >= 16
    assert "maximum-scale" not in js(drv, "return document.querySelector('meta[name=viewport]').content")
    scan_and_confirm(drv, s)
    camera_ready(drv)
    assert_fits(drv, "#instruction", ".oval", "#phase-text", "#record", "#remaining", min_tap=44)
    # An unreadable file through the fallback input: a retry card, no attempt used, everything on screen.
    path = tmp_path / "not-a-video.mp4"
    path.write_bytes(b"this is not a video" * 10)
    drv.find_element("id", "file").send_keys(str(path))
    wait_for(lambda: js(drv, "return !document.getElementById('retry-card').classList.contains('hidden')"), timeout=20)
    assert drv.find_element("id", "retry-reason").text == "这个文件不是视频"
    assert_fits(drv, "#retry-card", "#retry-button", "#phase-text", min_tap=44)
    assert poll(live_server, s)["attempts"] == 0


def test_the_page_plays_the_sequence_prompts_and_colours_at_their_times(
    make_browser: Any, live_server: str, platform_key: str, enrolled: str, app: Any, settings: Any
) -> None:
    """#11: a two-action sequence with screen colours; the page shows each prompt at its time
    (from the start of recording) and the colours full-screen."""
    import idsvc.liveness as liveness

    challenge = liveness.new_challenge(
        settings.replace(challenges=("turn_left", "nod", "open_mouth"), challenge_actions=2, light_challenge=True)
    )
    app.extensions["idsvc.qr.sessions"].pick_challenge = lambda: challenge
    steps = liveness.challenge_steps(challenge)
    drv = make_browser((390, 844))
    s = create(live_server, platform_key)
    scan_and_confirm(drv, s)
    js(
        drv,
        "window.__log = []; let t0 = null; new MutationObserver(() => {"
        " if (document.body.dataset.phase === 'recording' && t0 === null) t0 = performance.now();"
        " if (t0 !== null) window.__log.push([(performance.now() - t0) / 1000,"
        " document.getElementById('instruction').textContent, document.body.dataset.flash || '',"
        " getComputedStyle(document.getElementById('flash')).display]);"
        "}).observe(document.body, {attributes: true, subtree: true, childList: true, characterData: true});",
    )
    record(drv)
    wait_for(
        lambda: phase(drv) in ("uploading", "verifying", "retry") or outcome_or_none(drv),
        timeout=40,
        what="the recording to end",
    )
    log = js(drv, "return window.__log")
    texts = [(t, text) for t, text, _flash, _display in log]
    first, second = steps[0]["instruction_zh"], steps[1]["instruction_zh"]
    assert any(text == first for _t, text in texts), texts[:5]
    shown_second = min(t for t, text in texts if text == second)
    # Not before its prompt (a little scheduling slack on a loaded machine), and not much after.
    assert steps[1]["prompt_s"] - 0.15 <= shown_second <= steps[1]["prompt_s"] + 1.5, (shown_second, steps[1])
    colours = {c["rgb"][0] for step in steps for c in step["colours"]}
    seen = {flash for _t, _text, flash, display in log if flash and display != "none"}
    assert len(seen) == len({tuple(c["rgb"]) for step in steps for c in step["colours"]}) >= 2, (seen, colours)


def outcome_or_none(drv: Any) -> Any:
    return js(drv, "return document.body.dataset.verify || null")
