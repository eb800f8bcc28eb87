"""CLI of the attempts feature: ``idsvc member unlock``."""

from __future__ import annotations

import json

import click

from idsvc.attempts.limits import FaceAttempts
from idsvc.clikit import services
from idsvc.core.db import Member


def register(cli: click.Group) -> None:
    member = cli.commands.get("member")
    group = member if isinstance(member, click.Group) else cli

    @group.command("unlock")
    @click.option("--member-id", required=True)
    @click.option("--why", required=True, help="Why the lock is lifted (kept in the audit log).")
    def unlock(member_id: str, why: str) -> None:
        """Lift a member's face-verification lock and forget the counted failures."""
        svc = services()
        with svc.db.session() as db:
            if db.get(Member, member_id) is None:
                raise click.ClickException(f"member {member_id} does not exist")
        attempts = FaceAttempts(svc.store, svc.db, svc.settings, svc.clock)
        attempts.unlock(member_id, "cli", why.strip())
        click.echo(
            json.dumps({"member_id": member_id, "face_verification": attempts.view(member_id)}, ensure_ascii=False)
        )
