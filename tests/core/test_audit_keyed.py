"""The keyed audit chain and its checkpoints (issue 9, item 6): rewrites by someone who can write the
database but does not hold the audit key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from idsvc.cli import cli
from idsvc.core import audit, migrations
from idsvc.core.db import AuditEntry, AuditHead, Database
from idsvc.core.services import Services
from idsvc.core.settings import DEVELOPMENT_AUDIT_KEY, ConfigError, Secret, Settings
from tests.factories import release1_db


def _append(services: Services, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        with services.db.session() as s:
            audit.record(s, "test.event", f"actor-{i}", f"thing:{i}", {"n": i, "名字": "张三"})


def _verify(services: Services, checkpoint: audit.Checkpoint | None = None) -> audit.ChainReport:
    with services.db.session() as s:
        return audit.verify(s, checkpoint)


def _checkpoint(services: Services) -> audit.Checkpoint:
    with services.db.session() as s:
        return audit.checkpoint(s)


def _rehash_unkeyed_from(s: Session, first: int) -> None:
    """What an attacker without the key can do: recompute every hash from ``first`` on as plain
    SHA-256 (relabelling keyed entries ``sha256``) and move the head to match."""
    prev = s.get(AuditEntry, first - 1).hash if first > 1 else audit.GENESIS
    for e in s.execute(select(AuditEntry).where(AuditEntry.seq >= first).order_by(AuditEntry.seq)).scalars():
        e.prev_hash = prev
        e.hash = release1_db.release1_digest(prev, e.seq, e.at, e.event, e.actor, e.subject, e.data)
        e.scheme = audit.LEGACY
        prev = e.hash
    s.execute(update(AuditHead).where(AuditHead.id == 1).values(hash=prev))


def test_new_entries_are_keyed_and_need_the_key(services: Services, settings: Settings) -> None:
    _append(services, 5)
    report = _verify(services)
    assert report.ok and report.entries == 5 and report.legacy == 0
    with services.db.session() as s:
        assert {e.scheme for e in s.query(AuditEntry)} == {audit.KEYED}
    other = Database(settings.database_url, audit_key=b"k" * 32)
    try:
        with other.session() as s:
            report = audit.verify(s)
        assert not report.ok and report.first_broken_seq == 1 and "IDSVC_AUDIT_KEY" in report.problem
    finally:
        other.dispose()


def test_an_edited_actor_cannot_be_rehashed_without_the_key(services: Services) -> None:
    _append(services, 12)
    with services.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(actor="someone-else"))
        _rehash_unkeyed_from(s, 4)
    report = _verify(services)
    assert not report.ok and report.first_broken_seq == 4


def test_a_cut_tail_is_caught_only_with_a_checkpoint(services: Services) -> None:
    _append(services, 30)
    cp = _checkpoint(services)
    assert cp.seq == 30
    _append(services, 3, start=30)  # written after the checkpoint: fine
    assert _verify(services, cp).ok
    with services.db.session() as s:  # delete #20..#33 and move audit_head back to #19
        s.execute(delete(AuditEntry).where(AuditEntry.seq >= 20))
        nineteen = s.get(AuditEntry, 19)
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=19, hash=nineteen.hash))
    # What the key alone cannot show (README "Audit log"): the shorter chain is internally consistent.
    assert _verify(services).ok
    report = _verify(services, cp)
    assert not report.ok and "20..30" in report.problem


def test_a_checkpoint_catches_a_changed_entry_even_if_the_chain_reads_consistent(services: Services) -> None:
    _append(services, 8)
    cp = _checkpoint(services)
    with services.db.session() as s:  # replace everything with an unkeyed chain of the attacker's own
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="forged"))
        _rehash_unkeyed_from(s, 1)
    assert not _verify(services).ok  # unkeyed entries without a seal
    assert not _verify(services, cp).ok


def test_checkpoint_files_are_signed(services: Services, settings: Settings) -> None:
    _append(services, 3)
    cp = _checkpoint(services)
    key = settings.audit_signing_key()
    assert audit.Checkpoint.from_json(cp.to_json(), key) == cp
    moved = json.loads(cp.to_json()) | {"seq": 2}
    with pytest.raises(audit.CheckpointInvalid, match="signature"):
        audit.Checkpoint.from_json(json.dumps(moved), key)
    with pytest.raises(audit.CheckpointInvalid, match="signature"):
        audit.Checkpoint.from_json(cp.to_json(), b"another key" * 3)
    for bad in ["", "[]", '{"format": "x"}', json.dumps(json.loads(cp.to_json()) | {"seq": "3"})]:
        with pytest.raises(audit.CheckpointInvalid):
            audit.Checkpoint.from_json(bad, key)


def test_cli_checkpoint_then_verify(services: Services, tmp_path: Path) -> None:
    _append(services, 6)
    out = CliRunner().invoke(cli, ["audit", "checkpoint"], obj=services)
    assert out.exit_code == 0, out.output
    head = json.loads(out.output)
    assert head["seq"] == 6 and len(head["hash"]) == 64 and head["signature"] and head["at"].endswith("Z")
    file = tmp_path / "checkpoint.json"
    file.write_text(out.output)
    ok = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(file)], obj=services)
    assert ok.exit_code == 0 and "checkpoint at entry 6" in ok.output and "6 keyed, 0 legacy" in ok.output
    with services.db.session() as s:
        s.execute(delete(AuditEntry).where(AuditEntry.seq >= 5))
        four = s.get(AuditEntry, 4)
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=4, hash=four.hash))
    broken = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(file)], obj=services)
    assert broken.exit_code == 1 and "BROKEN at entry 5" in broken.output
    file.write_text(out.output.replace('"seq": 6', '"seq": 4'))
    rejected = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(file)], obj=services)
    assert rejected.exit_code == 1 and "REJECTED" in rejected.output
    # A broken chain is never signed.
    with services.db.session() as s:
        s.execute(update(AuditEntry).where(AuditEntry.seq == 2).values(actor="x"))
    refused = CliRunner().invoke(cli, ["audit", "checkpoint"], obj=services)
    assert refused.exit_code == 1 and "refusing to sign a broken chain" in refused.output


@pytest.fixture
def upgraded(settings: Settings, tmp_path: Path) -> Any:
    """A release-1 database (20+ unkeyed entries) upgraded to head, then a few keyed entries."""
    url = f"sqlite:///{tmp_path / 'release1.sqlite3'}"
    made = release1_db.build(url)
    db = Database(url, audit_key=settings.audit_signing_key())
    migrations.upgrade(db)
    for i in range(3):
        with db.session() as s:
            audit.record(s, "test.after_upgrade", "tester", f"thing:{i}", {})
    yield db, made.audit_entries
    db.dispose()


def test_legacy_entries_keep_verifying_after_the_upgrade(upgraded: Any) -> None:
    db, legacy = upgraded
    with db.session() as s:
        report = audit.verify(s)
        cp = audit.checkpoint(s)
    assert report.ok and report.legacy == legacy and report.entries == legacy + 3
    with db.session() as s:
        assert audit.verify(s, cp).ok


def test_an_edited_legacy_entry_fails_even_when_rehashed(upgraded: Any) -> None:
    db, legacy = upgraded
    with db.session() as s:  # edit an actor; recompute the later sha256 hashes as release 1 would
        s.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="cli-forged"))
        prev = s.get(AuditEntry, 2).hash
        for e in s.execute(
            select(AuditEntry).where(AuditEntry.seq.between(3, legacy)).order_by(AuditEntry.seq)
        ).scalars():
            e.prev_hash = prev
            e.hash = release1_db.release1_digest(prev, e.seq, e.at, e.event, e.actor, e.subject, e.data)
            prev = e.hash
    with db.session() as s:
        report = audit.verify(s)
    assert not report.ok and report.first_broken_seq == legacy and "sealed hash" in report.problem


def test_keyed_entries_cannot_be_relabelled_unkeyed(upgraded: Any) -> None:
    db, legacy = upgraded
    with db.session() as s:  # rewrite a keyed entry, then pass the whole tail off as release-1 sha256
        s.execute(update(AuditEntry).where(AuditEntry.seq == legacy + 2).values(actor="forged"))
        _rehash_unkeyed_from(s, legacy + 1)
    with db.session() as s:
        report = audit.verify(s)
    assert not report.ok and report.first_broken_seq == legacy + 1 and "sealed legacy part" in report.problem


def test_the_seal_cannot_be_removed_or_moved(upgraded: Any, settings: Settings) -> None:
    db, legacy = upgraded
    with db.session() as s:
        note = s.get(AuditHead, 1).note
        assert note.startswith(audit.SEAL_PREFIX)
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(note=""))
    with db.session() as s:
        report = audit.verify(s)
    assert not report.ok and report.first_broken_seq == 1 and "seal" in report.problem
    forged = note.replace(f" {legacy} ", f" {legacy + 3} ")
    with db.session() as s:
        s.execute(update(AuditHead).where(AuditHead.id == 1).values(note=forged))
    with db.session() as s:
        assert not audit.verify(s).ok


def test_upgrading_a_chain_needs_the_key_to_seal_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'release1.sqlite3'}"
    release1_db.build(url)
    keyless = Database(url)
    try:
        with pytest.raises(audit.AuditKeyMissing, match="seals the"):
            migrations.upgrade(keyless)
        # All or nothing: the failed run left release 1's schema as it was.
        assert migrations.status(keyless).release_1
    finally:
        keyless.dispose()


def test_audit_key_settings() -> None:
    base = {"IDSVC_SECRET_KEY": "s" * 32}
    derived = Settings.from_env(base)
    assert derived.audit_key == "" and derived.audit_signing_key() != derived.secret_key.encode()
    own = Settings.from_env(base | {"IDSVC_AUDIT_KEY": "a" * 32})
    assert own.audit_signing_key() not in (derived.audit_signing_key(), b"a" * 32)
    # The audit key stands apart from the secret: rotating IDSVC_SECRET_KEY leaves it alone.
    rotated = Settings.from_env({"IDSVC_SECRET_KEY": "t" * 32, "IDSVC_AUDIT_KEY": "a" * 32})
    assert rotated.audit_signing_key() == own.audit_signing_key()
    with pytest.raises(ConfigError, match="IDSVC_AUDIT_KEY"):
        Settings.from_env(base | {"IDSVC_AUDIT_KEY": "short"})
    dev = Settings.from_env({})
    assert (
        dev.audit_key == DEVELOPMENT_AUDIT_KEY and Settings.from_env({}).audit_signing_key() == dev.audit_signing_key()
    )
    assert "a" * 32 not in repr(own) and isinstance(own.audit_key, Secret)


def test_a_session_without_a_key_refuses_to_write(settings: Settings, services: Services) -> None:
    keyless = Database(settings.database_url)
    try:
        with pytest.raises(audit.AuditKeyMissing), keyless.session() as s:
            audit.record(s, "test.event", "t", "x", {})
    finally:
        keyless.dispose()


def test_a_late_second_upgrade_reseals_only_the_legacy_entries(upgraded: Any) -> None:
    """Two processes upgrading at once: the one that waited re-seals after keyed entries exist."""
    db, legacy = upgraded
    with db.session() as s:
        note = s.get(AuditHead, 1).note
    with db.engine.begin() as conn:
        migrations._seal_legacy_audit(conn, db.audit_key)
    with db.session() as s:
        assert s.get(AuditHead, 1).note == note and f" {legacy} " in note
        assert audit.verify(s).ok
