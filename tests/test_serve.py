"""`idsvc serve` as a real process: gunicorn, real Redis, many long-polls held at once."""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
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


CLI = (sys.executable, "-m", "idsvc")


def _environment(database_url: str, redis_prefix: str, secret: str, port: int, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "IDSVC_DATABASE_URL": database_url,
        "IDSVC_REDIS_URL": REDIS_URL,
        "IDSVC_REDIS_PREFIX": redis_prefix,
        "IDSVC_SECRET_KEY": secret,
        "IDSVC_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "IDSVC_ENV": "production",
        "IDSVC_CERT_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "IDSVC_BLOB_DIR": str(tmp_path / "blobs"),
    }


def _member_and_key(env: dict[str, str]) -> str:
    """Member m-1 and a platform API key (returned), through the CLI."""
    add = ["member", "add", "--member-id", "m-1", "--name", "张三", "--id-number", "110101199003078515"]
    subprocess.run([*CLI, *add, "--association", "11"], env=env, check=True, capture_output=True, timeout=60)
    key = subprocess.run(
        [*CLI, "apikey", "create", "--name", "p", "--role", "platform"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return key.stdout.strip()


@contextmanager
def _serving(env: dict[str, str], port: int, workers: int, log_path: Path) -> Iterator[str]:
    """``idsvc serve`` as a real process until the block ends; yields its base URL once ready."""
    log = open(log_path, "w")  # noqa: SIM115 - closed below
    # Its own process group, so a failed start never leaves gunicorn workers behind.
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if requests.get(f"{base}/readyz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        else:
            pytest.fail(log_path.read_text())
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


@pytest.fixture
def served(settings: Any, tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    port = free_port()
    env = _environment(settings.database_url, settings.redis_prefix, str(settings.secret_key), port, tmp_path)
    key = _member_and_key(env)
    with _serving(env, port, 2, tmp_path / "serve.log") as base:
        yield base, key, tmp_path / "serve.log"


def test_serve_holds_many_long_polls_and_wakes_them_all(served: Any) -> None:
    base, key, log_path = served
    auth = {"Authorization": f"Bearer {key}"}
    # Many desktops, each waiting on its own QR: more waiters than the old threaded server had
    # threads per process (64); under gevent each is a parked greenlet.
    n = 150
    created = [
        requests.post(f"{base}/v1/sessions", json={"member_id": "m-1"}, headers=auth, timeout=10).json()
        for _ in range(n)
    ]
    s = created[0]

    def poll(session: dict[str, Any]) -> str:
        r = requests.get(
            f"{base}/v1/sessions/{session['session_id']}",
            params={"wait": 20, "version": 1},
            headers={"Authorization": f"Bearer {session['poll_token']}"},
            timeout=30,
        )
        body = r.json()
        return str(body.get("status") or body["error"]["code"])

    with ThreadPoolExecutor(n + 2) as pool:
        futures = [pool.submit(poll, c) for c in created]
        time.sleep(2)  # let them all arrive and park in the server
        assert not any(f.done() for f in futures)
        # No starvation: with all of them waiting, other requests are still answered.
        assert requests.get(f"{base}/healthz", timeout=10).status_code == 200
        assert (
            requests.post(f"{base}/v1/sessions", json={"member_id": "m-1"}, headers=auth, timeout=10).status_code == 201
        )
        # A fair share: one desktop gets two waiting polls (a page reload), not a third.
        extra = [pool.submit(poll, s) for _ in range(2)]
        time.sleep(1)
        assert sum(f.done() for f in extra) == 1 and next(f for f in extra if f.done()).result() == "too_many_waiters"
        assert not any(f.done() for f in futures)
        for c in created:
            requests.delete(f"{base}/v1/sessions/{c['session_id']}", headers=auth, timeout=10)
        results = [f.result() for f in futures]
    # Every waiter woke with its change (their own 20 s wait had not run out): none was dropped.
    assert results == ["cancelled"] * n
    # Logs are JSON lines without secrets: no API key, poll token or scan token.
    text = log_path.read_text()
    assert key not in text and s["poll_token"] not in text and s["scan_url"].rsplit("/", 1)[1] not in text
    assert "110101199003078515" not in text
    # Production has no demo page.
    assert requests.get(f"{base}/demo", timeout=5).status_code == 404


def test_slow_clients_are_cut_off(served: Any) -> None:
    """A body that stalls (slowloris) gets 408 and a closed connection within the idle timeout; a
    connection that never sends its request is closed too, instead of holding the server."""
    base, key, _ = served
    port = int(base.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/sessions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {key}\r\n".encode()
            + b'Content-Length: 1000\r\n\r\n{"member_id'
        )
        answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
        assert sock.recv(4096) == b""  # the server closed the connection (recv did not time out)


PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def test_a_request_waiting_on_a_database_lock_does_not_stop_its_worker(tmp_path: Path) -> None:
    """gevent must patch the process before psycopg is imported, or psycopg waits in C and a
    request blocked on a row lock stops every other request of its worker (``idsvc.launch``).
    PostgreSQL whichever database the suite runs on: this is about psycopg."""
    import psycopg

    db = "idsvc_test_cooperative"
    with psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {db}")
    url = f"postgresql://postgres@127.0.0.1:5432/{db}"
    port = free_port()
    env = _environment(url, f"idsvc-coop-{os.getpid()}", "cooperative-" + os.urandom(8).hex(), port, tmp_path)
    subprocess.run([*CLI, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=60)
    key = _member_and_key(env)
    with (
        _serving(env, port, 1, tmp_path / "serve.log") as base,
        ThreadPoolExecutor(1) as pool,
        psycopg.connect(url) as holder,  # closed first on the way out, which frees the waiting request
    ):
        # Hold the audit chain's head: the next audited write (creating a session) waits for it.
        holder.execute("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE")
        creating = pool.submit(
            requests.post,
            f"{base}/v1/sessions",
            json={"member_id": "m-1"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        time.sleep(1)
        assert not creating.done()  # it really is waiting on the lock
        # The same (only) worker still answers everything else meanwhile.
        assert requests.get(f"{base}/healthz", timeout=3).status_code == 200
        holder.rollback()
        assert creating.result().status_code == 201
