"""Schema migrations (issue 17): a release-1 database upgraded in place on SQLite and PostgreSQL.

The PostgreSQL runs use their own database (``idsvc_test_db``, created here if missing; override with
``IDSVC_TEST_MIGRATIONS_PG_URL``), never the integrator's ``idsvc_test``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

import idsvc.features  # noqa: F401  (registers every feature's tables on Base.metadata)
from idsvc.cli import cli
from idsvc.core import audit, migrations
from idsvc.core.db import AuditEntry, Base, Database
from idsvc.core.services import build_services
from idsvc.core.settings import Settings
from idsvc.web.app import create_app
from tests.conftest import reset_database
from tests.factories import release1_db

REPO = Path(__file__).resolve().parents[2]
PG_URL = os.environ.get("IDSVC_TEST_MIGRATIONS_PG_URL", "postgresql://postgres@127.0.0.1:5432/idsvc_test_db")
pytestmark = pytest.mark.integration


def _ensure_pg_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:  # fail loudly: these tests must run on both engines
        pytest.fail(f"PostgreSQL at {admin} is not reachable ({exc}); run scripts/ensure_services.sh --postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'release1.sqlite3'}"
        return
    _ensure_pg_database(PG_URL)
    reset_database(PG_URL)
    yield PG_URL
    reset_database(PG_URL)


@pytest.fixture
def on(settings: Settings, db_url: str) -> Settings:
    """The test's settings, pointed at the database under test."""
    return settings.replace(database_url=db_url)


def _db(settings: Settings) -> Database:
    return Database(settings.database_url, audit_key=settings.audit_signing_key())


def invoke(obj: Any, *args: str) -> Any:
    return CliRunner().invoke(cli, list(args), obj=obj)


def test_baseline_is_exactly_the_release_1_schema(on: Settings) -> None:
    db = _db(on)
    try:
        migrations.upgrade(db, migrations.BASELINE)
        assert migrations.status(db).current == migrations.BASELINE
        # Release 1's tables (frozen in tests/factories/release1_db.py) against the migrated database:
        # autogenerate finds nothing to add, drop or alter.
        assert migrations.differences(db, release1_db.RELEASE_1) == []
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT id, version FROM schema_info")).all() == [(1, 1)]
            assert conn.execute(text("SELECT id, seq, hash, note FROM audit_head")).all() == [(1, 0, "0" * 64, "")]
    finally:
        db.dispose()


def test_models_and_migrations_agree(on: Settings) -> None:
    db = _db(on)
    try:
        _, after = migrations.upgrade(db)
        assert after.up_to_date and after.current == migrations.head()
        assert migrations.differences(db, Base.metadata) == []
        assert invoke(on, "db", "check").exit_code == 0
    finally:
        db.dispose()


def test_a_model_change_without_its_migration_is_caught(on: Settings) -> None:
    from sqlalchemy import Column, MetaData, String

    db = _db(on)
    try:
        migrations.upgrade(db)
        changed = MetaData()
        for table in Base.metadata.sorted_tables:
            table.to_metadata(changed)
        changed.tables["members"].append_column(Column("standing", String(16), nullable=True))
        diffs = migrations.differences(db, changed)
        assert [d[0] for d in diffs] == ["add_column"] and diffs[0][2] == "members" and diffs[0][3].name == "standing"
    finally:
        db.dispose()


def test_release_1_database_upgrades_keeping_every_row(on: Settings) -> None:
    made = release1_db.build(on.database_url)
    before = release1_db.snapshot(on.database_url)
    assert sum(len(rows) for rows in before.values()) > 40

    current = invoke(on, "db", "current")
    assert current.exit_code == 1 and "release 1" in current.output and "idsvc db upgrade" in current.output

    # Production refuses to start on it, naming the command; nothing is changed by trying.
    production = on.replace(env="production")
    with pytest.raises(migrations.SchemaBehind, match="idsvc db upgrade"):
        build_services(production)
    with pytest.raises(migrations.SchemaBehind, match="idsvc db upgrade"):
        create_app(production)
    assert release1_db.snapshot(on.database_url) == before

    up = invoke(on, "db", "upgrade")
    assert up.exit_code == 0, up.output
    assert "adopted a release-1 database" in up.output and f"-> {migrations.head()}" in up.output
    assert invoke(on, "db", "upgrade").output.startswith("already at")

    after = release1_db.snapshot(on.database_url)
    assert after.pop("schema_info") == [(1, 2)]  # so release 1 refuses the upgraded database
    expected = dict(before)
    assert expected.pop("schema_info") == [(1, 1)]
    assert after.keys() == expected.keys()
    for table, rows in expected.items():
        if table == "audit_head":  # the note now holds the seal of the legacy entries
            assert [r[:3] for r in after[table]] == [r[:3] for r in rows]
            assert after[table][0][3].startswith(audit.SEAL_PREFIX)
        else:
            assert after[table] == rows, table

    db = _db(on)
    try:
        assert migrations.status(db).up_to_date
        assert migrations.differences(db, Base.metadata) == []
        with db.session() as s:
            assert {e.scheme for e in s.query(AuditEntry)} == {audit.LEGACY}
    finally:
        db.dispose()

    # The service starts in production on it, verifies the old chain and serves the old rows.
    svc = build_services(production.replace(redis_url=on.redis_url))
    try:
        for data in made.blobs:
            svc.blobs.put(data)
        verified = invoke(svc, "audit", "verify")
        assert verified.exit_code == 0, verified.output
        assert f"{made.audit_entries} entries (0 keyed, {made.audit_entries} legacy sha256)" in verified.output
        client = create_app(production, services=svc).test_client()
        platform = {"Authorization": f"Bearer {made.keys['platform']}"}
        for state, rid in made.request_ids.items():
            got = client.get(f"/v1/id-changes/{rid}", headers=platform)
            assert got.status_code == 200, got.get_data(as_text=True)
            assert got.json["state"] == state and got.json["reason"] == "公安机关更正身份证号码"
        member = client.get("/v1/members/m-approved", headers=platform)
        assert member.status_code == 200 and member.json["id_number"].endswith(release1_db.APPROVED_NEW[-4:])
        local = {"Authorization": f"Bearer {made.keys['local']}"}
        listed = client.get("/v1/id-changes?state=forwarded", headers=local)
        assert listed.status_code == 200 and [r["state"] for r in listed.json["items"]] == ["forwarded"]
        signature = client.get("/v1/members/m-submitted/signature", headers=platform)
        assert signature.status_code == 200, signature.get_data(as_text=True)
        assert signature.json["filing"]["verdict"] == "warn" and len(signature.json["history"]) == 2
        assert (
            client.get("/v1/id-changes", headers={"Authorization": f"Bearer {made.keys['revoked']}"}).status_code == 401
        )

        # New events are keyed, and chain on from the legacy ones.
        withdrawn = client.post(f"/v1/id-changes/{made.request_ids['submitted']}/withdraw", headers=platform, json={})
        assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)
        with svc.db.session() as s:
            report = audit.verify(s)
            assert report.ok and report.legacy == made.audit_entries and report.entries > made.audit_entries
            assert s.get(AuditEntry, made.audit_entries + 1).scheme == audit.KEYED
    finally:
        svc.close()

    # Going back would leave release 1 with entries it cannot verify: refused, nothing changed.
    down = invoke(on, "db", "downgrade", migrations.BASELINE)
    assert down.exit_code != 0 and "refusing to downgrade below 0002" in down.output and "HMAC" in down.output
    db = _db(on)
    try:
        assert migrations.status(db).current == migrations.head()
    finally:
        db.dispose()


def test_downgrade_is_safe_before_any_keyed_entry(on: Settings) -> None:
    release1_db.build(on.database_url)
    before = release1_db.snapshot(on.database_url)
    assert invoke(on, "db", "upgrade").exit_code == 0
    down = invoke(on, "db", "downgrade", migrations.BASELINE)
    assert down.exit_code == 0, down.output
    back = release1_db.snapshot(on.database_url)
    # Exactly release 1's rows again (the seal stays in audit_head.note, which release 1 ignores).
    assert {t: r for t, r in back.items() if t != "audit_head"} == {
        t: r for t, r in before.items() if t != "audit_head"
    }
    db = _db(on)
    try:
        assert migrations.differences(db, release1_db.RELEASE_1) == []
        assert migrations.status(db).current == migrations.BASELINE
    finally:
        db.dispose()
    # Below the baseline is dropping everything: refused.
    refused = invoke(on, "db", "downgrade", "base")
    assert refused.exit_code != 0 and "refusing to downgrade below the baseline" in refused.output
    assert release1_db.snapshot(on.database_url) == back
    # And up again: the same rows, the chain verifies.
    assert invoke(on, "db", "upgrade").exit_code == 0
    db = _db(on)
    try:
        with db.session() as s:
            assert audit.verify(s).ok
    finally:
        db.dispose()


def test_foreign_tables_are_not_adopted(on: Settings) -> None:
    db = _db(on)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("CREATE TABLE someone_elses (id INTEGER PRIMARY KEY)"))
        with pytest.raises(migrations.UnknownSchema):
            migrations.upgrade(db)
        result = invoke(on, "db", "upgrade")
        assert result.exit_code != 0 and "none of idsvc's bookkeeping" in result.output
    finally:
        db.dispose()


def test_a_database_from_a_newer_release_is_refused(on: Settings) -> None:
    db = _db(on)
    try:
        migrations.upgrade(db)
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(migrations.UnknownSchema, match="9999"):
            build_services(on.replace(env="production"))
        with pytest.raises(migrations.UnknownSchema, match="9999"):
            build_services(on)  # development does not try to "upgrade" it either
    finally:
        db.dispose()


def test_history_lists_the_revisions(settings: Settings) -> None:
    out = invoke(settings, "db", "history")
    assert out.exit_code == 0
    lines = out.output.splitlines()
    assert lines[0].startswith(migrations.head()) and lines[0].endswith("(head)")
    assert lines[-1].startswith("0001  baseline")


@pytest.mark.slow
def test_serve_refuses_a_database_behind_the_code(tmp_path: Path, settings: Settings) -> None:
    url = f"sqlite:///{tmp_path / 'behind.sqlite3'}"
    release1_db.build(url)
    env = {
        **os.environ,
        "IDSVC_ENV": "production",
        "IDSVC_DATABASE_URL": url,
        "IDSVC_SECRET_KEY": "serve-refusal-secret-0123456789",
        "IDSVC_CERT_SIGNING_KEY": "A" * 43 + "=",
        "IDSVC_REDIS_URL": settings.redis_url,
        "IDSVC_REDIS_PREFIX": settings.redis_prefix,
    }
    done = subprocess.run(
        [sys.executable, "-m", "idsvc", "serve", "--port", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode != 0
    assert "idsvc db upgrade" in done.stderr and "release 1" in done.stderr
