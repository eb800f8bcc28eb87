"""Render every screen the member and the desktop meet into docs/screens/ (``make screenshots``).

Runs idsvc (in-process Redis, SQLite in a temporary directory) and mock WeChat on loopback, and drives
headless Chromium at 320×568 and 390×844 (the phone, WeChat's user agent, a fake camera fed by a real
clip) and 1366×768 (the desktop widget on /demo).  The capture phases come from real recordings; end
states that need a particular verdict (another person, no ID record, …) are set on the session directly,
the way the server would leave it, and the page is loaded as the member would see it.

    .venv/bin/python scripts/screenshots.py [--out docs/screens] [--only phone|desktop]
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
PLAIN_PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)
PHONE_SIZES = [(320, 568), (390, 844)]
DESKTOP = (1366, 768)
CHALLENGES: Iterator[str] = itertools.repeat("blink")


def wait(pred: Callable[[], Any], timeout: float = 30, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > deadline:
            raise TimeoutError(what or "condition")
        time.sleep(0.03)


class Stage:
    """idsvc + mock WeChat on loopback, with the member enrolled from the sample clip."""

    def __init__(self, tmp: Path) -> None:
        import cv2
        from werkzeug.serving import make_server

        import idsvc.liveness.challenges as challenges
        import mock_wechat
        from idsvc.core.db import IdRecord, Member
        from idsvc.core.services import build_services
        from idsvc.core.settings import Settings
        from idsvc.liveness.enrol import encode_reference_photo
        from idsvc.liveness.match import encoding_to_bytes
        from idsvc.web.app import create_app
        from mock_wechat.testing import serve_in_thread

        challenges.pick_challenge = lambda enabled, rng=None: next(CHALLENGES)  # type: ignore[assignment]
        self.wechat, self._stop_wechat = serve_in_thread(mock_wechat.create_app("wx_shots", "shots_secret"))

        class Dispatch:
            app: Any = None

            def __call__(self, environ: Any, start_response: Any) -> Any:
                return self.app(environ, start_response)

        dispatch = Dispatch()
        self.server = make_server("127.0.0.1", 0, dispatch, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.port}"
        self.settings = Settings(
            env="development",
            secret_generated=False,
            database_url=f"sqlite:///{tmp / 'shots.sqlite3'}",
            public_url=self.base,
            wechat_appid="wx_shots",
            wechat_secret=Settings().wechat_secret.__class__("shots_secret"),
            wechat_api_base=f"{self.wechat}/",
            wechat_oauth_base=f"{self.wechat}/connect/",
            blob_dir=tmp / "blobs",
            log_level="ERROR",
            portal_name="中国某某协会会员系统",
            help_text="如有疑问，请致电协会秘书处 010-12345678（工作日 9:00–17:00）",
        )
        self.services = build_services(self.settings)
        from idsvc.core import migrations

        migrations.upgrade(self.services.db)
        self.app = dispatch.app = create_app(self.settings, services=self.services)
        import threading

        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

        clip = REPO / "tests/data/videos/liveportrait-d13.mp4"
        self.mp4 = tmp / "cam.mp4"
        self.y4m = tmp / "cam.y4m"
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-ss", "0.3", "-t", "2.7", "-i", str(clip), "-an", str(self.mp4)],
            check=True,
        )
        subprocess.run(
            ["ffmpeg", "-loglevel", "error", "-y", "-i", str(self.mp4), "-vf", "scale=360:640", "-pix_fmt", "yuv420p"]
            + [str(self.y4m)],
            check=True,
        )
        cap = cv2.VideoCapture(str(clip))
        cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
        _ok, frame = cap.read()
        cap.release()
        with self.services.db.session() as db:
            db.add(Member(member_id="demo-member", name="演示会员", id_number="110101199003078515", association="11"))
            enc = encoding_to_bytes(encode_reference_photo(cv2.imencode(".jpg", frame)[1].tobytes()))
            db.add(IdRecord(id_number="110101199003078515", name="张三", encoding=enc, source="screenshots"))

    def create(self, purpose: str = "login") -> dict[str, Any]:
        from idsvc.qr import service, sessions
        from idsvc.qr.tokens import make_scan_token

        s, token = self.app.extensions[service.EXTENSION].create(
            "screenshots", "demo-member", purpose, {"ip": "203.0.113.7", "user_agent": DESKTOP_UA}
        )
        return {
            **sessions.public_view(s),
            "match_code": s.match_code,
            "poll_token": token,
            "scan_url": f"{self.base}/m/{make_scan_token(str(self.settings.secret_key), s.session_id)}",
        }

    def force(self, sid: str, **changes: Any) -> None:
        """Leave the session as the server would after a verdict (for end pages that need one)."""
        from idsvc.qr import service
        from idsvc.qr import sessions as sm

        qs = self.app.extensions[service.EXTENSION]

        def step(cur: sm.Session) -> sm.Session:
            data = {**cur.to_json(), **changes, "version": cur.version + 1, "updated_at": time.time()}
            return sm.Session.from_json(data)

        qs.apply(sid, step, "session.screenshot", "screenshots")

    def close(self) -> None:
        self.server.shutdown()
        self._stop_wechat()


def browser(tmp: Path, size: tuple[int, int], ua: str | None, camera: Path | None, allow: bool = True) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    flags = [
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
        "--force-device-scale-factor=1", f"--window-size={size[0]},{size[1]}",
        f"--user-data-dir={tempfile.mkdtemp(dir=tmp)}", "--lang=zh-CN",
    ]  # fmt: skip
    if ua:
        flags.append(f"--user-agent={ua}")
    if camera:
        flags += ["--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}"]
        if allow:
            flags.append("--use-fake-ui-for-media-stream")
    for f in flags:
        options.add_argument(f)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"), options=options)
    drv.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": ua is not None},
    )
    return drv


class Shots:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.taken: list[str] = []

    def __call__(self, drv: Any, name: str, size: tuple[int, int]) -> None:
        path = self.out / f"{name}-{size[0]}x{size[1]}.png"
        drv.save_screenshot(str(path))
        self.taken.append(path.name)
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path, flush=True)


def phase(drv: Any) -> str:
    return str(drv.execute_script("return document.body.dataset.phase || ''"))


def scan_and_confirm(drv: Any, s: dict[str, Any]) -> None:
    drv.get(s["scan_url"])
    btn = wait(
        lambda: [b for b in drv.find_elements("css selector", "button[name=match_code]") if b.text == s["match_code"]]
    )
    btn[0].click()
    wait(lambda: phase(drv) == "ready", 40, "camera ready")


def phone_screens(stage: Stage, tmp: Path, size: tuple[int, int], shot: Shots) -> None:
    global CHALLENGES
    drv = browser(tmp, size, WECHAT_UA, stage.y4m)
    try:
        # Not inside WeChat.
        drv.execute_cdp_cmd("Network.enable", {})
        drv.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": PLAIN_PHONE_UA})
        drv.get(stage.create()["scan_url"])
        shot(drv, "phone-01-not-wechat", size)
        drv.execute_cdp_cmd("Network.setUserAgentOverride", {"userAgent": WECHAT_UA})

        # Who is asking, then the capture: ready, 3-2-1, recording, upload progress, checking, retry card.
        CHALLENGES = itertools.chain(["turn_left"], itertools.repeat("blink"))
        s = stage.create("transfer")
        drv.get(s["scan_url"])
        shot(drv, "phone-02-confirm-number", size)
        btn = [b for b in drv.find_elements("css selector", "button[name=match_code]") if b.text == s["match_code"]]
        btn[0].click()
        wait(lambda: phase(drv) == "ready", 40, "camera ready")
        time.sleep(0.6)  # let the framing hint settle for the picture
        shot(drv, "phone-03-ready", size)
        drv.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 150, "downloadThroughput": 64_000, "uploadThroughput": 40_000},
        )
        drv.find_element("id", "record").click()
        wait(lambda: phase(drv) == "countdown", 10)
        shot(drv, "phone-04-countdown", size)
        wait(lambda: phase(drv) == "recording", 10)
        time.sleep(0.8)
        shot(drv, "phone-05-recording", size)
        wait(
            lambda: (
                phase(drv) == "uploading" and int(drv.execute_script("return +document.body.dataset.progress")) >= 20
            ),
            40,
        )
        shot(drv, "phone-06-uploading", size)
        drv.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
        )
        wait(lambda: phase(drv) == "verifying", 60)
        shot(drv, "phone-07-verifying", size)
        wait(lambda: phase(drv) == "retry", 90, "retry card")
        shot(drv, "phone-08-retry-card", size)

        # A network error keeps the recording for another upload.
        drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/video"]})
        drv.find_element("id", "file").send_keys(str(stage.mp4))
        wait(lambda: phase(drv) == "neterror", 30)
        shot(drv, "phone-09-network-error", size)
        drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        # The fake camera's clip only blinks: let this attempt ask for exactly that, so the
        # re-upload ends on the verified page (a recorded clip cannot answer a fresh sequence).
        stage.force(s["session_id"], challenge="blink")
        drv.find_element("id", "reupload").click()
        wait(lambda: drv.execute_script("return document.body.dataset.end || ''") == "verified", 90, "verified")
        shot(drv, "phone-10-verified", size)

        # End pages, as the server leaves them.
        for name, changes in (
            ("phone-11-face-mismatch", {"status": "failed", "failure": {"code": "face_mismatch"}}),
            ("phone-12-no-id-record", {"status": "failed", "failure": {"code": "id_record_not_found"}}),
            ("phone-13-three-failures", {"status": "failed", "failure": {"code": "too_dark"}, "attempts": 3}),
            ("phone-14-expired", {"status": "expired", "failure": {"code": "session_expired"}}),
        ):
            s = stage.create()
            drv.get(s["scan_url"])
            stage.force(s["session_id"], **changes)
            drv.get(f"{stage.base}/m/s/{s['session_id']}")
            shot(drv, name, size)
        # A wrong number.
        s = stage.create()
        drv.get(s["scan_url"])
        wrong = [b for b in drv.find_elements("css selector", "button[name=match_code]") if b.text != s["match_code"]]
        wrong[0].click()
        wait(lambda: drv.find_elements("id", "end"), 10)
        shot(drv, "phone-15-wrong-number", size)
        # Someone else scanned first.
        s = stage.create()
        drv.get(s["scan_url"])
        drv.delete_all_cookies()  # another phone
        drv.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {"X-Mock-Openid": "o_someone_else"}})
        drv.get(s["scan_url"])
        shot(drv, "phone-16-scanned-by-someone-else", size)
        drv.execute_cdp_cmd("Network.setExtraHTTPHeaders", {"headers": {}})
    finally:
        drv.quit()

    # Camera denied: the system camera instead, with the guidance above the buttons.
    drv = browser(tmp, size, WECHAT_UA, stage.y4m, allow=False)
    try:
        s = stage.create()
        drv.get(s["scan_url"])
        drv.execute_cdp_cmd(
            "Browser.setPermission", {"permission": {"name": "camera"}, "setting": "denied", "origin": stage.base}
        )
        btn = [b for b in drv.find_elements("css selector", "button[name=match_code]") if b.text == s["match_code"]]
        btn[0].click()
        wait(lambda: phase(drv) == "fallback", 30)
        shot(drv, "phone-17-camera-denied", size)
    finally:
        drv.quit()


def desktop_screens(stage: Stage, tmp: Path, shot: Shots) -> None:
    drv = browser(tmp, DESKTOP, None, None)
    status = lambda: drv.execute_script("return document.getElementById('widget').dataset.status || ''")  # noqa: E731
    reason = lambda: drv.execute_script("return document.getElementById('widget').dataset.reason || ''")  # noqa: E731
    try:
        drv.get(f"{stage.base}/demo")
        wait(lambda: status() == "pending", 20)
        wait(
            lambda: drv.execute_script(
                "const i=document.querySelector('#widget img');return i&&i.complete&&i.naturalWidth>0"
            )
        )
        shot(drv, "desktop-01-qr", DESKTOP)
        sid = drv.execute_script("return document.getElementById('widget').dataset.session")
        now = time.time()
        steps = (
            ("desktop-02-scanned", "scanned", {"status": "scanned", "openid": "o_demo", "scanned_at": now}),
            ("desktop-03-confirmed", "confirmed", {"status": "confirmed", "confirmed_at": now, "challenge": "blink"}),
            ("desktop-04-retry", "confirmed", {"last_reason": "too_dark", "attempts": 1}),
            ("desktop-05-verifying", "verifying", {"status": "verifying", "attempts": 2}),
            ("desktop-06-verified", "verified", {"status": "verified", "verified_at": now, "finished_at": now}),
        )
        for name, want, changes in steps:
            stage.force(sid, **changes)
            expected = str(changes.get("last_reason") or "")
            wait(lambda w=want, e=expected: status() == w and (w != "confirmed" or reason() == e), 10)
            time.sleep(0.2)
            shot(drv, name, DESKTOP)
        drv.execute_script("window.demoWidget.refresh()")
        wait(
            lambda: (
                status() == "pending"
                and drv.execute_script("return document.getElementById('widget').dataset.session") != sid
            ),
            20,
        )
        sid = drv.execute_script("return document.getElementById('widget').dataset.session")
        stage.force(sid, status="failed", failure={"code": "face_mismatch"}, finished_at=time.time())
        wait(lambda: status() == "failed", 10)
        shot(drv, "desktop-07-failed", DESKTOP)
        drv.find_element("css selector", "#widget button.b").click()
        wait(
            lambda: (
                status() == "pending"
                and drv.execute_script("return document.getElementById('widget').dataset.session") != sid
            ),
            20,
        )
        sid = drv.execute_script("return document.getElementById('widget').dataset.session")
        stage.force(sid, expires_at=time.time() - 1)
        wait(lambda: status() == "expired", 40)
        time.sleep(0.2)
        shot(drv, "desktop-08-expired", DESKTOP)
    finally:
        drv.quit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screens")
    parser.add_argument("--only", choices=("phone", "desktop"))
    parser.add_argument("--size", help="only this phone size, e.g. 390x844")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="idsvc-shots-") as t:
        tmp = Path(t)
        stage = Stage(tmp)
        shot = Shots(args.out)
        try:
            if args.only != "phone":
                desktop_screens(stage, tmp, shot)
            if args.only != "desktop":
                for size in PHONE_SIZES:
                    if args.size and args.size != f"{size[0]}x{size[1]}":
                        continue
                    phone_screens(stage, tmp, size, shot)
        finally:
            stage.close()
    print(f"{len(shot.taken)} screenshots in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
