"""A real phone page in headless Chromium: WeChat user agent, OAuth via mock WeChat, tap the number,
record 3 s with MediaRecorder from a fake camera fed by a real selfie clip, and get verified."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import cv2
import pytest
import requests

from idsvc.core.db import IdRecord
from tests.conftest import WECHAT_UA

pytestmark = [pytest.mark.e2e, pytest.mark.integration, pytest.mark.model, pytest.mark.slow]


@pytest.fixture
def settings(settings: Any, wechat_server: str) -> Any:
    return settings.replace(
        wechat_api_base=f"{wechat_server}/",
        wechat_oauth_base=f"{wechat_server}/connect/",
        challenges=("blink",),
        challenge_actions=1,
    )


@pytest.fixture
def camera_clip(data_dir: Path, tmp_path: Path) -> Path:
    """The d13 window with a blink, as the Y4M file Chromium's fake camera plays in a loop."""
    from tests.factories import liveness_synth as synth

    mp4 = synth.cut(data_dir / "videos/liveportrait-d13.mp4", tmp_path / "cam.mp4", 0.3, 3.0)
    y4m = tmp_path / "cam.y4m"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(mp4), "-vf", "scale=360:640", "-pix_fmt", "yuv420p", str(y4m)],
        check=True,
        timeout=120,
    )
    return y4m


@pytest.fixture
def phone_browser(tmp_path: Path, camera_clip: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=420,900",
        f"--user-agent={WECHAT_UA}",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={camera_clip}",
        f"--user-data-dir={tmp_path / 'profile'}",
    ):
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"), options=options)
    yield drv
    drv.quit()


def test_member_records_in_the_phone_page_and_gets_verified(
    phone_browser: Any,
    live_server: str,
    platform_key: str,
    make_member: Any,
    services: Any,
    data_dir: Path,
    tmp_path: Path,
) -> None:
    from selenium.webdriver.common.by import By

    from idsvc.liveness.enrol import encode_reference_photo
    from idsvc.liveness.match import encoding_to_bytes

    make_member()
    cap = cv2.VideoCapture(str(data_dir / "videos/liveportrait-d13.mp4"))
    cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
    _ok, frame = cap.read()
    with services.db.session() as db:
        enc = encoding_to_bytes(encode_reference_photo(cv2.imencode(".jpg", frame)[1].tobytes()))
        db.add(IdRecord(id_number="110101199003078515", name="张三", encoding=enc, source="test"))

    s = requests.post(
        f"{live_server}/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": platform_key}, timeout=10
    ).json()
    phone_browser.get(s["scan_url"])  # → mock WeChat OAuth → callback → the confirm page
    buttons = phone_browser.find_elements(By.CSS_SELECTOR, "button[name=match_code]")
    assert sorted(b.text for b in buttons) == sorted(b.get_attribute("value") for b in buttons) and len(buttons) == 3
    next(b for b in buttons if b.text == s["match_code"]).click()
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    instruction = WebDriverWait(phone_browser, 10).until(ec.presence_of_element_located((By.ID, "instruction")))
    assert instruction.text == "请眨眨眼"
    phone_browser.find_element(By.ID, "record").click()
    deadline = time.monotonic() + 40

    def outcome() -> str | None:
        return phone_browser.execute_script("return document.body.dataset.verify || null")

    while time.monotonic() < deadline and outcome() is None:
        time.sleep(0.1)
    phone_browser.save_screenshot(str(tmp_path / "phone.png"))
    poll = requests.get(
        f"{live_server}/v1/sessions/{s['session_id']}",
        headers={"Authorization": f"Bearer {s['poll_token']}"},
        timeout=10,
    ).json()
    assert outcome() == "verified", (phone_browser.find_element(By.ID, "status").text, poll)
    assert poll["status"] == "verified"
    assert "验证成功" in phone_browser.find_element(By.ID, "status").text
