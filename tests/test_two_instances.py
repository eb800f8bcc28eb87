"""More than one machine (#10.4): two `idsvc serve` instances and two `idsvc worker` processes on one
Redis and one PostgreSQL.  A desktop polling instance A sees a phone that talks only to instance B,
and the video uploaded to B is analysed by a queue worker, not by either web process."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import psycopg
import pytest
import requests

from tests.conftest import REDIS_URL
from tests.factories import liveness_synth as synth
from tests.qr.phone import Phone
from tests.test_serve import free_port

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.model]

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PG_DB = "idsvc_test_multi"


def _fresh_postgres() -> str:
    try:
        with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
            conn.execute(f"CREATE DATABASE {PG_DB}")
    except psycopg.OperationalError as exc:  # fail loudly: the test needs the real thing
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is needed (scripts/ensure_services.sh --postgres): {exc}")
    return f"postgresql://postgres@127.0.0.1:5432/{PG_DB}"


def _wait_ready(base: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            pytest.fail(log.read_text()[-3000:])
        try:
            if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    pytest.fail(log.read_text()[-3000:])


@pytest.fixture
def cluster(tmp_path: Path, wechat_server: str, data_dir: Path, settings: Any) -> Iterator[dict[str, Any]]:
    ports = free_port(), free_port()
    common = {
        **os.environ,
        "IDSVC_ENV": "production",
        "IDSVC_SECRET_KEY": "two-instances-secret-" + os.urandom(8).hex(),
        "IDSVC_CERT_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "IDSVC_DATABASE_URL": _fresh_postgres(),
        "IDSVC_REDIS_URL": REDIS_URL,
        "IDSVC_REDIS_PREFIX": settings.redis_prefix,
        "IDSVC_BLOB_DIR": str(tmp_path / "blobs"),
        "IDSVC_WECHAT_APPID": "wx_test_appid",
        "IDSVC_WECHAT_SECRET": "test_secret",
        "IDSVC_WECHAT_API_BASE": f"{wechat_server}/",
        "IDSVC_WECHAT_OAUTH_BASE": f"{wechat_server}/connect/",
        # A recorded clip can answer only a single-action challenge.
        "IDSVC_CHALLENGES": "blink",
        "IDSVC_CHALLENGE_ACTIONS": "1",
        "IDSVC_LOG_LEVEL": "WARNING",
    }
    cli = (sys.executable, "-m", "idsvc")

    def run(*args: str) -> str:
        done = subprocess.run([*cli, *args], env=common, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout.strip()

    run("db", "upgrade")
    run(
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
    )
    cap = cv2.VideoCapture(str(data_dir / "videos/liveportrait-d13.mp4"))
    cap.set(cv2.CAP_PROP_POS_MSEC, 8000)
    _ok, frame = cap.read()
    cap.release()
    photo = tmp_path / "id-photo.jpg"
    cv2.imwrite(str(photo), frame)
    run("idrecord", "add", "--id-number", "110101199003078515", "--name", "张三", str(photo))
    key = run("apikey", "create", "--name", "portal", "--role", "platform")

    procs: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(name: str, args: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[bytes], Path]:
        log_path = tmp_path / f"{name}.log"
        log = open(log_path, "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen([*cli, *args], env=env, stdout=log, stderr=log, start_new_session=True)
        procs.append((proc, log))
        return proc, log_path

    bases = [f"http://127.0.0.1:{p}" for p in ports]
    webs = [
        start(f"web{i}", ["serve", "--port", str(p), "--workers", "1"], {**common, "IDSVC_PUBLIC_URL": base})
        for i, (p, base) in enumerate(zip(ports, bases))
    ]
    for i in range(2):
        start(f"worker{i}", ["worker", "--processes", "1"], {**common, "IDSVC_PUBLIC_URL": bases[0]})
    try:
        for base, (proc, log_path) in zip(bases, webs):
            _wait_ready(base, proc, log_path)
        yield {"a": bases[0], "b": bases[1], "key": key, "logs": tmp_path}
    finally:
        for proc, _log in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, log in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()


def test_a_desktop_on_a_follows_a_phone_on_b_and_a_worker_decides(
    cluster: dict[str, Any], data_dir: Path, tmp_path: Path
) -> None:
    a, b, key = cluster["a"], cluster["b"], cluster["key"]
    s = requests.post(
        f"{a}/v1/sessions", json={"member_id": "m-1"}, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).json()
    poll = {"Authorization": f"Bearer {s['poll_token']}"}

    def wait_on_a(version: int) -> dict[str, Any]:
        r = requests.get(
            f"{a}/v1/sessions/{s['session_id']}", params={"wait": 25, "version": version}, headers=poll, timeout=40
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    # The phone talks only to B (the same scan URL, served by the other instance).
    phone = Phone("o_member")
    page = phone.scan(s["scan_url"].replace(a, b))
    assert page.status_code == 200, page.text
    scanned = wait_on_a(s["version"])  # woken on A by a change written through B
    assert scanned["status"] == "scanned"
    csrf = Phone.csrf(page.text)
    assert phone.confirm(b, s["session_id"], s["match_code"], csrf).json()["status"] == "confirmed"
    assert wait_on_a(scanned["version"])["status"] == "confirmed"

    clip = synth.cut(data_dir / "videos/liveportrait-d13.mp4", tmp_path / "clip.mp4", 0.9, 3.0).read_bytes()
    decided = phone.verify(b, s["session_id"], clip, csrf)
    assert decided["status"] == "verified", decided
    final = requests.get(f"{a}/v1/sessions/{s['session_id']}", headers=poll, timeout=10).json()
    assert final["status"] == "verified" and final["assurance"] == "single_action"
    # Analysed by a queue worker: a worker's log shows it started; the web processes never load models.
    worker_logs = "".join((cluster["logs"] / f"worker{i}.log").read_text() for i in range(2))
    assert "worker ready" in worker_logs
