"""Requests survive the service: file, kill -9 the real server, start it again, finish the workflow.

Runs on a SQLite file, and on PostgreSQL too when ``IDSVC_TEST_DATABASE_URL`` is set (CI).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from idchange_support import NEW, OLD, face_encoding, pdf_proof, run_cli

from idsvc.core.db import Database, IdRecord, Member
from tests.conftest import reset_database

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REDIS_URL = os.environ.get("IDSVC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("IDSVC_TEST_DATABASE_URL") else [])
START_TIMEOUT = 60


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``idsvc serve`` in its own process group, so kill -9 takes the gunicorn workers down with it."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "idsvc", "serve", "--port", str(self.port), "--workers", "2"],
                env=self.env,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"idsvc serve exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        pytest.fail(f"idsvc serve did not answer within {START_TIMEOUT} s:\n{self.log.read_text()[-3000:]}")

    def stop(self, sig: signal.Signals) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, sig)
        self.proc.wait(30)
        # The whole group is gone: nothing answers on the port any more.
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{self.base}/healthz", timeout=2)


@pytest.fixture(params=BACKENDS)
def stack(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'durable.sqlite3'}"
    else:
        url = os.environ["IDSVC_TEST_DATABASE_URL"]
        reset_database(url)
    prefix = f"idsvc-durable-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSVC_")}
    env.update(
        IDSVC_ENV="test",
        IDSVC_DATABASE_URL=url,
        IDSVC_REDIS_URL=REDIS_URL,
        IDSVC_REDIS_PREFIX=prefix,
        IDSVC_SECRET_KEY="durability-test-secret-key-0123456789",
        IDSVC_BLOB_DIR=str(tmp_path / "blobs"),
        IDSVC_LOG_LEVEL="WARNING",
    )
    server = Server(env, tmp_path / "serve.log")
    yield server, env
    server.stop(signal.SIGKILL)
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def _cli(env: dict[str, str], *args: str) -> str:
    done = run_cli(env, *args)
    assert done.returncode == 0, done.stderr
    return str(done.stdout.strip())


def test_request_survives_restarts(stack: tuple[Server, dict[str, str]]) -> None:
    server, env = stack
    # Keys and the member are made the way an operator would, with the CLI against the same database.
    platform = _cli(env, "apikey", "create", "--name", "portal", "--role", "platform")
    local = _cli(env, "apikey", "create", "--name", "beijing", "--role", "local", "--association", "11")
    national = _cli(env, "apikey", "create", "--name", "cas", "--role", "national")
    _cli(env, "member", "add", "--member-id", "m-9", "--name", "李四", "--id-number", OLD, "--association", "11")
    db = Database(env["IDSVC_DATABASE_URL"])
    with db.session() as s:
        s.add(IdRecord(id_number=OLD, name="李四", encoding=face_encoding(), source="test-enrolment"))

    def auth(key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    proof = pdf_proof("重启测试用证明")
    server.start()
    filed = requests.post(
        f"{server.base}/v1/id-changes",
        headers=auth(platform),
        timeout=30,
        data={"member_id": "m-9", "new_id_number": NEW, "reason": "公安更正"},
        files={"proof": ("p.pdf", proof, "application/pdf")},
    )
    assert filed.status_code == 201, filed.text
    rid = filed.json()["request_id"]
    server.stop(signal.SIGKILL)  # no graceful shutdown: only what was committed survives

    server.start()
    again: Any = requests.get(f"{server.base}/v1/id-changes/{rid}", headers=auth(local), timeout=30).json()
    assert again["state"] == "submitted" and again["new_id_number"] == NEW
    assert requests.get(f"{server.base}/v1/id-changes/{rid}/proof", headers=auth(local), timeout=30).content == proof
    assert (
        requests.post(
            f"{server.base}/v1/id-changes/{rid}/review", headers=auth(local), json={"decision": "forward"}, timeout=30
        ).status_code
        == 200
    )
    server.stop(signal.SIGTERM)

    server.start()
    approved = requests.post(
        f"{server.base}/v1/id-changes/{rid}/decision",
        headers=auth(national),
        json={"decision": "approve", "comment": "同意"},
        timeout=30,
    )
    assert approved.status_code == 200, approved.text
    assert [h["to_state"] for h in approved.json()["history"]] == ["submitted", "forwarded", "approved"]
    member = requests.get(f"{server.base}/v1/members/m-9", headers=auth(platform), timeout=30).json()
    assert member["id_number"] == NEW[:6] + "********" + NEW[-4:] and member["id_record"]["enrolled"] is True
    server.stop(signal.SIGKILL)

    with db.session() as s:
        assert s.get(Member, "m-9").id_number == NEW  # type: ignore[union-attr]
        assert s.get(IdRecord, NEW).encoding == face_encoding()  # type: ignore[union-attr]
        assert s.get(IdRecord, OLD) is None
    db.dispose()
    assert "intact" in _cli(env, "audit", "verify")
    listed = _cli(env, "idchange", "list", "--state", "approved")
    assert rid in listed and NEW not in listed
    shown = json.loads(_cli(env, "idchange", "show", rid))
    assert shown["state"] == "approved" and shown["new_id_number"] == NEW[:6] + "********" + NEW[-4:]
