"""Config, logging, audit chain and CLI of the foundation."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from idsvc.core import audit
from idsvc.core.db import AuditEntry
from idsvc.core.logs import JsonFormatter, mask_id_number, scrub
from idsvc.core.settings import ConfigError, Settings

REPO = Path(__file__).resolve().parents[1]


def test_settings_defaults_and_env() -> None:
    s = Settings.from_env({})
    assert s.env == "development" and s.secret_generated and s.session_ttl == 300 and s.redis_url == ""
    assert (
        s.wechat_api_base == "https://api.weixin.qq.com/"
        and s.wechat_oauth_base == "https://open.weixin.qq.com/connect/"
    )
    s = Settings.from_env(
        {
            "IDSVC_SESSION_TTL": "60",
            "IDSVC_PUBLIC_URL": "https://id.example.org/",
            "IDSVC_SECRET_KEY": "x" * 32,
            "IDSVC_CHALLENGES": "blink,nod",
            "IDSVC_WECHAT_API_BASE": "http://127.0.0.1:9",
        }
    )
    assert s.session_ttl == 60 and s.public_url == "https://id.example.org" and s.challenges == ("blink", "nod")
    assert s.wechat_api_base == "http://127.0.0.1:9/" and not s.secret_generated
    assert "x" * 32 not in repr(s)


@pytest.mark.parametrize(
    "env",
    [
        {"IDSVC_ENV": "production", "IDSVC_REDIS_URL": "redis://x"},
        {"IDSVC_ENV": "production", "IDSVC_SECRET_KEY": "y" * 32},
        {"IDSVC_ENV": "staging"},
        {"IDSVC_SESSION_TTL": "ten"},
        {"IDSVC_SESSION_TTL": "0"},
        {"IDSVC_CHALLENGES": "blink,dance"},
        {"IDSVC_SECRET_KEY": "short"},
    ],
)
def test_bad_settings_fail_at_start(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        Settings.from_env(env)


def test_masking() -> None:
    assert mask_id_number("31010419800101123X") == "310104********123X"
    assert mask_id_number("310104800101123") == "310104*****1123"
    assert "110101199003078515" not in scrub("member 110101199003078515 failed")
    record = logging.LogRecord("t", logging.INFO, "", 0, "id %s", ("11010519491231002X",), None)
    record.fields = {"id_number": "11010519491231002X"}
    line = JsonFormatter().format(record)
    assert "11010519491231002X" not in line and json.loads(line)["id_number"] == "110105********002X"


def test_audit_chain_detects_tampering(services: Any) -> None:
    with services.db.session() as db:
        for i in range(5):
            audit.record(db, "test.event", "tester", f"thing:{i}", {"n": i})
    with services.db.session() as db:
        assert audit.verify(db).ok and audit.verify(db).entries == 5
        db.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(data={"n": 99}))
    with services.db.session() as db:
        report = audit.verify(db)
        assert not report.ok and report.first_broken_seq == 3


def test_audit_chain_detects_deleted_tail(services: Any) -> None:
    with services.db.session() as db:
        for i in range(3):
            audit.record(db, "test.event", "tester", f"thing:{i}", {})
    with services.db.session() as db:
        db.query(AuditEntry).filter(AuditEntry.seq == 3).delete()
    with services.db.session() as db:
        assert not audit.verify(db).ok


def test_concurrent_audit_appends_keep_one_chain(services: Any) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def append(i: int) -> None:
        with services.db.session() as db:
            audit.record(db, "test.concurrent", "t", f"x:{i}", {"i": i})

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append, range(40)))
    with services.db.session() as db:
        report = audit.verify(db)
        assert report.ok and report.entries == 40


def run_cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "IDSVC_DATABASE_URL": settings.database_url,
        "IDSVC_REDIS_URL": settings.redis_url,
        "IDSVC_REDIS_PREFIX": settings.redis_prefix,
        "IDSVC_SECRET_KEY": str(settings.secret_key),
        "IDSVC_LOG_LEVEL": "WARNING",
    }
    return subprocess.run([sys.executable, "-m", "idsvc", *args], env=env, capture_output=True, text=True, timeout=120)


def test_cli_apikey_member_and_audit(settings: Any, services: Any, client: Any) -> None:
    out = run_cli(settings, "apikey", "create", "--name", "portal", "--role", "platform")
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    assert key.startswith("idsvc_") and out.stdout.count("\n") == 1
    from idsvc.core.db import ApiKey

    with services.db.session() as db:
        stored = db.query(ApiKey).one()
        assert key not in (stored.key_hash, stored.key_id) and stored.role == "platform"
    assert (
        run_cli(settings, "apikey", "create", "--name", "x", "--role", "local").returncode != 0
    )  # local needs an association
    assert run_cli(settings, "apikey", "create", "--name", "x", "--role", "root").returncode != 0

    out = run_cli(
        settings,
        "member",
        "add",
        "--member-id",
        "m-7",
        "--name",
        "李四",
        "--id-number",
        "310104500101123",
        "--association",
        "31",
    )
    assert out.returncode == 0, out.stderr
    assert "310104500101123" not in out.stdout + out.stderr
    bad = run_cli(
        settings,
        "member",
        "add",
        "--member-id",
        "m-8",
        "--name",
        "王五",
        "--id-number",
        "110101199003078514",
        "--association",
        "11",
    )
    assert bad.returncode != 0 and "check" in bad.stderr.lower()
    dup = run_cli(
        settings,
        "member",
        "add",
        "--member-id",
        "m-9",
        "--name",
        "赵六",
        "--id-number",
        "310104500101123",
        "--association",
        "31",
    )
    assert dup.returncode != 0

    # The key works over HTTP against the member just added.
    r = client.post("/v1/sessions", json={"member_id": "m-7"}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 201
    out = run_cli(settings, "audit", "verify")
    assert out.returncode == 0 and "intact" in out.stdout
    with services.db.session() as db:
        db.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="mallory"))
    out = run_cli(settings, "audit", "verify")
    assert out.returncode == 1 and "entry 2" in out.stderr


def test_production_without_secret_refuses_to_start(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "IDSVC_ENV": "production",
        "IDSVC_REDIS_URL": "redis://127.0.0.1:6379/15",
        "IDSVC_DATABASE_URL": f"sqlite:///{tmp_path}/x.db",
    }
    env.pop("IDSVC_SECRET_KEY", None)
    out = subprocess.run(
        [sys.executable, "-m", "idsvc", "serve", "--port", "0"], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode != 0 and "IDSVC_SECRET_KEY" in out.stderr


def test_python_is_311() -> None:
    assert sys.version_info[:2] == (3, 11)
