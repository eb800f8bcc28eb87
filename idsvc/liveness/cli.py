"""CLI of idsvc.liveness: ``idsvc idrecord add`` and ``idsvc verify-video``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from idsvc.liveness.challenges import CHALLENGES

# Reasons meaning the clip itself could not be evaluated: "bad input" for the exit status.
MEDIA_REASONS = frozenset({"video_invalid", "too_short", "too_long"})


def register(cli: click.Group) -> None:
    """Add this feature's commands to the idsvc group."""

    @cli.group("idrecord")
    def idrecord() -> None:
        """ID records: the reference faces of ID numbers."""

    @idrecord.command("add")
    @click.option("--id-number", required=True, help="18-digit (or legacy 15-digit) resident ID number.")
    @click.option("--name", required=True)
    @click.option("--replace", is_flag=True, help="Replace an existing record for this ID number.")
    @click.argument("photo", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def idrecord_add(id_number: str, name: str, replace: bool, photo: Path) -> None:
        """Enrol PHOTO's face (exactly one, sharp, large enough) as the ID record's reference."""
        from idsvc.clikit import services as get_services
        from idsvc.core.errors import IdsvcError
        from idsvc.liveness.records import add_id_record, public_view

        svc = get_services()
        try:
            with svc.db.session() as db:
                record = add_id_record(
                    db,
                    id_number=id_number,
                    name=name,
                    photo=photo.read_bytes(),
                    source="cli",
                    actor="cli",
                    replace=replace,
                )
                view = public_view(record)
        except IdsvcError as exc:
            click.echo(json.dumps(exc.to_dict(), ensure_ascii=False), err=True)
            sys.exit(2 if exc.status < 500 else 1)
        click.echo(json.dumps(view, ensure_ascii=False))

    @cli.command("verify-video")
    @click.option("--id-number", required=True)
    @click.option("--challenge", required=True, type=click.Choice(sorted(CHALLENGES)))
    @click.argument("video", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    def verify_video(id_number: str, challenge: str, video: Path) -> None:
        """Analyse VIDEO for the ID number's face and CHALLENGE; print the decision as JSON.

        Exit status: 0 passed, 1 rejected, 2 bad input (unusable video or arguments).
        """
        from idsvc.clikit import services as get_services
        from idsvc.liveness.pipeline import analyse_video
        from idsvc.liveness.records import load_reference

        svc = get_services()
        with svc.db.session() as db:
            reference = load_reference(db, id_number)
        decision = analyse_video(video, challenge, reference)
        click.echo(json.dumps(decision.to_dict(), ensure_ascii=False, indent=2))
        if decision.passed:
            sys.exit(0)
        sys.exit(2 if decision.reason in MEDIA_REASONS else 1)
