"""Real browsers for the member's screens: Debian Chromium + chromedriver, headless, a fake camera fed by a real clip.

Waits are on the page's own state (``data-phase``, ``data-verify``, ``data-end``, ``data-status``), never fixed
sleeps: the page enables recording only once the preview shows a real frame, and its 3-second clock starts
at the recorder's ``start`` event, so a slow machine makes the test slower, not flaky.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest

from idsvc.core.db import IdRecord
from tests.conftest import WECHAT_UA

PHONE_SIZES = [(320, 568), (390, 844)]
DESKTOP_SIZE = (1366, 768)


@pytest.fixture
def settings(settings: Any, wechat_server: str) -> Any:
    return settings.replace(
        wechat_api_base=f"{wechat_server}/",
        wechat_oauth_base=f"{wechat_server}/connect/",
        challenges=("blink",),
        challenge_actions=1,
    )


@pytest.fixture(scope="session")
def clip_files(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The d13 window with a blink: an MP4 (for the file input) and the Y4M Chromium's fake camera loops."""
    from tests.factories import liveness_synth as synth

    out = tmp_path_factory.mktemp("clip")
    mp4 = synth.cut(data_dir / "videos/liveportrait-d13.mp4", out / "cam.mp4", 0.3, 3.0)
    y4m = out / "cam.y4m"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(mp4), "-vf", "scale=360:640", "-pix_fmt", "yuv420p", str(y4m)],
        check=True,
        timeout=120,
    )
    return {"mp4": mp4, "y4m": y4m}


@pytest.fixture
def enrolled(services: Any, make_member: Any, data_dir: Path) -> str:
    """Member m-1001 with an ID record whose face is the clip's person (frame at 8 s of the same video)."""
    from idsvc.liveness.enrol import encode_reference_photo
    from idsvc.liveness.match import encoding_to_bytes

    make_member()
    cap = cv2.VideoCapture(str(data_dir / "videos/liveportrait-d13.mp4"))
    cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
    _ok, frame = cap.read()
    cap.release()
    with services.db.session() as db:
        enc = encoding_to_bytes(encode_reference_photo(cv2.imencode(".jpg", frame)[1].tobytes()))
        db.add(IdRecord(id_number="110101199003078515", name="张三", encoding=enc, source="test"))
    return "m-1001"


def chromium(
    profile: Path,
    size: tuple[int, int],
    user_agent: str | None = None,
    camera: Path | None = None,
    allow_camera: bool = True,
) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not binary or not driver:
        pytest.fail("Debian's chromium and chromium-driver are required (scripts/ensure_services.sh installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    flags = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--window-size={size[0]},{size[1]}",
        f"--user-data-dir={profile}",
    ]
    if user_agent:
        flags.append(f"--user-agent={user_agent}")
    if camera is not None:
        flags += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"]
        if allow_camera:
            flags.append("--use-fake-ui-for-media-stream")
    for flag in flags:
        options.add_argument(flag)
    drv = webdriver.Chrome(service=Service(driver), options=options)
    # --window-size sizes the window, not the page: make the viewport exactly the phone's.
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": user_agent is not None},
    )
    return drv


@pytest.fixture
def make_browser(tmp_path: Path, clip_files: dict[str, Path]) -> Iterator[Callable[..., Any]]:
    drivers: list[Any] = []

    def make(
        size: tuple[int, int] = (390, 844), phone: bool = True, allow_camera: bool = True, camera: bool = True
    ) -> Any:
        drv = chromium(
            tmp_path / f"profile{len(drivers)}",
            size,
            WECHAT_UA if phone else None,
            clip_files["y4m"] if phone and camera else None,
            allow_camera,
        )
        drivers.append(drv)
        return drv

    yield make
    for drv in drivers:
        drv.quit()


def wait_for(predicate: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or predicate}")
        time.sleep(0.05)


def js(drv: Any, script: str, *args: Any) -> Any:
    return drv.execute_script(script, *args)


def phase(drv: Any) -> str:
    return str(js(drv, "return document.body.dataset.phase || ''"))


def end_code(drv: Any) -> str:
    return str(
        js(
            drv,
            "var e = document.querySelector('#end'); return document.body.dataset.end || (e && e.dataset.code) || ''",
        )
    )


def inside_viewport(drv: Any, *selectors: str) -> dict[str, Any]:
    """Each visible element's box relative to the viewport, and whether it is fully inside; plus overflow."""
    return dict(
        js(
            drv,
            """
            const out = {scrollWidth: document.documentElement.scrollWidth, innerWidth: innerWidth,
                         innerHeight: innerHeight, boxes: {}};
            for (const sel of arguments[0]) {
              const el = document.querySelector(sel);
              if (!el) { out.boxes[sel] = null; continue; }
              const r = el.getBoundingClientRect();
              out.boxes[sel] = {top: r.top, left: r.left, bottom: r.bottom, right: r.right, height: r.height,
                inside: r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.bottom <= innerHeight + 0.5
                        && r.right <= innerWidth + 0.5};
            }
            return out;
            """,
            list(selectors),
        )
    )


def assert_fits(drv: Any, *selectors: str, min_tap: int = 0) -> None:
    layout = inside_viewport(drv, *selectors)
    assert layout["scrollWidth"] <= layout["innerWidth"], f"horizontal overflow: {layout}"
    for sel, box in layout["boxes"].items():
        assert box is not None, f"{sel} missing"
        assert box["inside"], (
            f"{sel} not fully inside the {layout['innerWidth']}x{layout['innerHeight']} viewport: {box}"
        )
        if min_tap and sel.startswith(("#record", "#retry-button", "#reupload", "#close", "button")):
            assert box["height"] >= min_tap, f"{sel} is {box['height']} px tall (< {min_tap})"
