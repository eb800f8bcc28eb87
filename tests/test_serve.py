"""`idsvc serve` as a real process: gunicorn, real Redis, many long-polls held at once."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.conftest import REDIS_URL

REPO = Path(__file__).resolve().parents[1]
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(settings: Any, tmp_path: Path) -> Any:
    port = free_port()
    env = {
        **os.environ,
        "IDSVC_DATABASE_URL": settings.database_url,
        "IDSVC_REDIS_URL": REDIS_URL,
        "IDSVC_REDIS_PREFIX": settings.redis_prefix,
        "IDSVC_SECRET_KEY": str(settings.secret_key),
        "IDSVC_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "IDSVC_ENV": "production",
        "IDSVC_BLOB_DIR": str(tmp_path / "blobs"),
    }
    cli = str(REPO / ".venv/bin/idsvc")
    subprocess.run(
        [
            cli,
            "member",
            "add",
            "--member-id",
            "m-1",
            "--name",
            "张三",
            "--id-number",
            "110101199003078515",
            "--association",
            "11",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=60,
    )
    key = subprocess.run(
        [cli, "apikey", "create", "--name", "p", "--role", "platform"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 - closed below
    # Its own process group, so a failed start never leaves gunicorn workers behind.
    proc = subprocess.Popen(
        [cli, "serve", "--port", str(port), "--workers", "2", "--threads", "64"],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.1)
    else:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail((tmp_path / "serve.log").read_text())
    try:
        yield base, key, tmp_path / "serve.log"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        finally:
            os.killpg(proc.pid, signal.SIGKILL) if proc.poll() is None else None
            log.close()


def test_serve_holds_many_long_polls_and_wakes_them_all(served: Any) -> None:
    base, key, log_path = served
    s = requests.post(
        f"{base}/v1/sessions", json={"member_id": "m-1"}, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).json()
    n = 60
    started = time.monotonic()

    def poll(_: int) -> tuple[float, str]:
        r = requests.get(
            f"{base}/v1/sessions/{s['session_id']}",
            params={"wait": 20, "version": 1},
            headers={"Authorization": f"Bearer {s['poll_token']}"},
            timeout=30,
        )
        return time.monotonic(), r.json()["status"]

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(poll, i) for i in range(n)]
        time.sleep(1.5)  # all of them are now waiting in the server (two processes, many threads)
        assert not any(f.done() for f in futures)
        cancelled_at = time.monotonic()
        requests.delete(f"{base}/v1/sessions/{s['session_id']}", headers={"Authorization": f"Bearer {key}"}, timeout=10)
        results = [f.result() for f in futures]
    assert all(status == "cancelled" for _, status in results)
    slowest = max(t for t, _ in results) - cancelled_at
    assert slowest < 1.0, f"slowest long-poll woke {slowest:.3f}s after the change"
    assert time.monotonic() - started < 10
    # Logs are JSON lines without secrets: no API key, poll token or scan token.
    text = log_path.read_text()
    assert key not in text and s["poll_token"] not in text and s["scan_url"].rsplit("/", 1)[1] not in text
    assert "110101199003078515" not in text
    # Production has no demo page.
    assert requests.get(f"{base}/demo", timeout=5).status_code == 404
