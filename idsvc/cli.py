"""The ``idsvc`` command: serve, API keys, members, audit; features add their own verbs."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import click

from idsvc import clikit
from idsvc.core.services import Services, from_env
from idsvc.core.settings import ConfigError, Settings
from idsvc.features import FEATURES


def get_services() -> Services:
    """Services built from the environment, once per CLI process."""
    try:
        return from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group()
def cli() -> None:
    """idsvc: WeChat-first identity and document service."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers", default=0, type=int, help="Processes (default: one per core, or 1 with the in-process Redis)."
)
@click.option(
    "--connections", default=10000, show_default=True, type=int, help="Open connections per process (gevent)."
)
def serve(host: str, port: int, workers: int, connections: int) -> None:
    """Run the HTTP service under gunicorn with gevent workers (see idsvc/web/serve.py)."""
    from idsvc.web import serve as serving

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    _schema_ready(settings)
    if not settings.redis_url:
        # fakeredis lives inside one process: more workers would each see different sessions.
        workers = 1
        click.echo(
            "IDSVC_REDIS_URL is not set: using an in-process Redis (fakeredis), single worker, data lost on exit.",
            err=True,
        )
    if settings.secret_generated:
        click.echo(
            "IDSVC_SECRET_KEY is not set: generated a random key for this run (sessions and cookies end with it).",
            err=True,
        )
    serving.run(settings, host=host, port=port, workers=workers or (os.cpu_count() or 2), connections=connections)


@cli.command()
@click.option("--processes", default=0, type=int, help="Worker processes (default: one per core).")
@click.option("--threads", default=1, show_default=True, type=int, help="Jobs at once per process.")
@click.option(
    "--nice",
    default=0,
    show_default=True,
    type=click.IntRange(0, 19),
    help="Lower the workers' CPU priority by this much: on a machine that also serves the web tier, 10.",
)
def worker(processes: int, threads: int, nice: int) -> None:
    """Run the analysis workers: they take jobs (phone videos) from the Redis queue."""
    from idsvc.web import work

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not settings.redis_url:
        raise click.ClickException("idsvc worker needs IDSVC_REDIS_URL (without it, idsvc serve analyses in-process)")
    work.run(settings, processes=processes or (os.cpu_count() or 2), threads=threads, nice=nice)


@cli.group()
def apikey() -> None:
    """Manage API keys."""


@apikey.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["platform", "local", "national", "service"]))
@click.option("--association", default=None, help="Association / region code (required for role local).")
def apikey_create(name: str, role: str, association: str | None) -> None:
    """Create a key and print it once on stdout; only its hash is stored."""
    from idsvc.core import apikeys, audit

    svc = get_services()
    try:
        with svc.db.session() as db:
            key = apikeys.create(db, name, role, association)
            audit.record(
                db, "apikey.created", "cli", key.split("_")[1], {"name": name, "role": role, "association": association}
            )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(key)


@cli.group()
def member() -> None:
    """Manage members."""


@member.command("add")
@click.option("--member-id", required=True)
@click.option("--name", required=True)
@click.option("--id-number", required=True)
@click.option("--association", required=True)
def member_add(member_id: str, name: str, id_number: str, association: str) -> None:
    """Add a member (a valid 15- or 18-digit ID number, stored as given)."""
    from idsvc.core import audit
    from idsvc.core.db import Member
    from idsvc.core.idnumber import InvalidIdNumber, forms, normalise, validate
    from idsvc.core.logs import mask_id_number

    number = normalise(id_number)
    try:
        validate(number)
    except InvalidIdNumber as exc:
        raise click.BadParameter(exc.message_en, param_hint="--id-number") from exc
    svc = get_services()
    with svc.db.session() as db:
        if db.get(Member, member_id) is not None:
            raise click.ClickException(f"member {member_id} already exists")
        # The same person may be on file under the 15- or the 18-digit spelling of the number.
        if db.query(Member).filter(Member.id_number.in_(forms(number))).first() is not None:
            raise click.ClickException("another member already has this ID number")
        db.add(Member(member_id=member_id, name=name, id_number=number, association=association))
        audit.record(
            db,
            "member.added",
            "cli",
            f"member:{member_id}",
            {"id_number": mask_id_number(number), "association": association},
        )
    click.echo(
        json.dumps(
            {"member_id": member_id, "name": name, "id_number": mask_id_number(number), "association": association},
            ensure_ascii=False,
        )
    )


@cli.group("audit")
def audit_group() -> None:
    """The keyed, hash-chained audit log (README "Audit log")."""


@audit_group.command("verify")
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.File("r"),
    default=None,
    help="A file written by `idsvc audit checkpoint`: also prove nothing up to it was removed or changed.",
)
def audit_verify(checkpoint_file: Any) -> None:
    """Walk the chain; exit 1 and name the first broken link if any."""
    from idsvc.core import audit

    svc = clikit.services()
    checkpoint = None
    if checkpoint_file is not None:
        try:
            checkpoint = audit.Checkpoint.from_json(checkpoint_file.read(), svc.settings.audit_signing_key())
        except audit.CheckpointInvalid as exc:
            click.echo(f"audit checkpoint REJECTED: {exc}", err=True)
            sys.exit(1)
    with svc.db.session() as db:
        report = audit.verify(db, checkpoint)
    if report.ok:
        keyed = report.entries - report.legacy
        line = f"audit chain intact: {report.entries} entries ({keyed} keyed, {report.legacy} legacy sha256)"
        if checkpoint is not None:
            line += f"; checkpoint at entry {checkpoint.seq} ({checkpoint.at}) holds"
        click.echo(line)
        return
    click.echo(
        f"audit chain BROKEN at entry {report.first_broken_seq}: {report.problem} ({report.entries} entries verified before it)",
        err=True,
    )
    sys.exit(1)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Print a signed head (sequence, hash, time) to store outside the database (exit 1 if the chain is broken)."""
    from idsvc.core import audit

    with clikit.services().db.session() as db:
        report = audit.verify(db)
        if not report.ok:
            click.echo(
                f"refusing to sign a broken chain: entry {report.first_broken_seq}: {report.problem}",
                err=True,
            )
            sys.exit(1)
        checkpoint = audit.checkpoint(db)
    click.echo(checkpoint.to_json())


def _db_settings() -> Settings:
    """The settings given as click's context object (tests), else the environment's."""
    ctx = click.get_current_context(silent=True)
    given = ctx.find_object(Settings) if ctx is not None else None
    if given is not None:
        return given
    try:
        return Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def _schema_ready(settings: Settings) -> None:
    """Before serving: refuse (production) or upgrade (development, test) a database behind the code."""
    from idsvc.core import migrations
    from idsvc.core.db import Database, SchemaMismatch

    db = Database(settings.database_url, audit_key=settings.audit_signing_key())
    try:
        if settings.production:
            migrations.require_current(db)
        else:
            before, after = migrations.upgrade(db)
            if before.current != after.current:
                click.echo(f"database upgraded: {before.describe()} -> {after.current}", err=True)
    except SchemaMismatch as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()


@cli.group("db")
def db_group() -> None:
    """The database schema: Alembic migrations shipped in idsvc/core/migrations (README "Upgrading")."""


def _open_db() -> Any:
    from idsvc.core.db import Database

    settings = _db_settings()
    return Database(settings.database_url, audit_key=settings.audit_signing_key())


@db_group.command("current")
def db_current() -> None:
    """Print the database's revision and what is pending; exit 1 if it is behind the code."""
    from idsvc.core import migrations
    from idsvc.core.db import SchemaMismatch

    db = _open_db()
    try:
        st = migrations.status(db)
    except SchemaMismatch as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(st.describe())
    if not st.up_to_date:
        click.echo(f"run `{migrations.UPGRADE_COMMAND}`", err=True)
        sys.exit(1)


@db_group.command("history")
def db_history() -> None:
    """List the revisions this code knows, newest first."""
    from idsvc.core import migrations

    head = migrations.head()
    for line in migrations.history():
        click.echo(line + ("  (head)" if line.split()[0] == head else ""))


@db_group.command("upgrade")
@click.option("--to", "target", default="head", show_default=True, help="Revision to upgrade to.")
def db_upgrade(target: str) -> None:
    """Bring the database up to the code: adopts a release-1 database (stamp, no data change), then migrates."""
    from idsvc.core import migrations
    from idsvc.core.db import SchemaMismatch

    db = _open_db()
    try:
        before, after = migrations.upgrade(db, target)
    except (SchemaMismatch, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    if before.release_1:
        click.echo(f"adopted a release-1 database: stamped {migrations.BASELINE}, no row changed")
    if before.current == after.current and not before.release_1:
        click.echo(f"already at {after.current}: nothing to do")
    else:
        click.echo(f"upgraded {before.current or 'empty'} -> {after.current}")


@db_group.command("downgrade")
@click.argument("target")
def db_downgrade(target: str) -> None:
    """Step back to TARGET (e.g. 0001); refused where it would lose data (then restore a backup)."""
    from idsvc.core import migrations
    from idsvc.core.db import SchemaMismatch

    db = _open_db()
    try:
        before, after = migrations.downgrade(db, target)
    except (SchemaMismatch, RuntimeError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        db.dispose()
    click.echo(f"downgraded {before.current} -> {after.current or 'empty'}")


@db_group.command("check")
def db_check() -> None:
    """Exit 1 if the models and the migrated database differ (a model change without its migration)."""
    from idsvc.core import migrations
    from idsvc.core.db import Base

    db = _open_db()
    try:
        diffs = migrations.differences(db, Base.metadata)
    finally:
        db.dispose()
    if diffs:
        for diff in diffs:
            click.echo(repr(diff), err=True)
        click.echo("models and migrations differ: add a revision (`idsvc db revision -m ...`)", err=True)
        sys.exit(1)
    click.echo("models and migrations agree")


@db_group.command("revision")
@click.option("-m", "--message", required=True, help="What the change is, e.g. 'member standing'.")
@click.option("--empty", is_flag=True, help="No autogenerate: an empty revision for a data-only migration.")
def db_revision(message: str, empty: bool) -> None:
    """(Development) write a new revision into idsvc/core/migrations/versions, autogenerated from the models."""
    from idsvc.core import migrations
    from idsvc.core.db import Base

    db = _open_db()
    try:
        migrations.upgrade(db)  # autogenerate compares against a database at head
        path = migrations.revision(db, Base.metadata, message, autogenerate=not empty)
    finally:
        db.dispose()
    click.echo(f"wrote {path}: review it (batch mode for SQLite, data migration, a downgrade that refuses if unsafe)")


for _feature in FEATURES:
    _feature.register_cli(cli)


def main() -> None:
    try:
        cli()
    except ConfigError as exc:  # a bad IDSVC_* variable: say which, before doing anything
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
