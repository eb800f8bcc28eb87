"""The ``idsvc`` command: serve, API keys, members, audit; features add their own verbs."""

from __future__ import annotations

import json
import os
import sys

import click

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
def worker(processes: int, threads: int) -> None:
    """Run the analysis workers: they take jobs (phone videos) from the Redis queue."""
    from idsvc.web import work

    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    if not settings.redis_url:
        raise click.ClickException("idsvc worker needs IDSVC_REDIS_URL (without it, idsvc serve analyses in-process)")
    work.run(settings, processes=processes or (os.cpu_count() or 2), threads=threads)


@cli.group()
def apikey() -> None:
    """Manage API keys."""


@apikey.command("create")
@click.option("--name", required=True)
@click.option("--role", required=True, type=click.Choice(["platform", "local", "national"]))
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
    """The hash-chained audit log."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk the chain; exit 1 and name the first broken link if any."""
    from idsvc.core import audit

    with get_services().db.session() as db:
        report = audit.verify(db)
    if report.ok:
        click.echo(f"audit chain intact: {report.entries} entries")
        return
    click.echo(
        f"audit chain BROKEN at entry {report.first_broken_seq}: {report.problem} ({report.entries} entries verified before it)",
        err=True,
    )
    sys.exit(1)


for _feature in FEATURES:
    _feature.register_cli(cli)


def main() -> None:
    try:
        cli()
    except ConfigError as exc:  # a bad IDSVC_* variable: say which, before doing anything
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
