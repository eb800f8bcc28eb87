"""CLI of idsvc.idchange: ``idsvc idchange list`` and ``idsvc idchange show`` (ID numbers masked)."""

from __future__ import annotations

import json
from typing import Any

import click

_STATES = ["submitted", "forwarded", "approved", "rejected", "withdrawn"]


def _operator() -> Any:
    # The CLI runs with database access, i.e. as an operator: national scope, but numbers stay masked.
    from idsvc.core.apikeys import Principal

    return Principal(key_id="cli", name="cli", role="platform", association=None)


def register(cli: click.Group) -> None:
    """Add this feature's commands to the idsvc group."""

    @cli.group("idchange")
    def idchange() -> None:
        """ID-number change requests."""

    @idchange.command("list")
    @click.option("--state", type=click.Choice(_STATES), default=None)
    @click.option("--association", default=None)
    @click.option("--member-id", default=None)
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 100))
    @click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
    @click.option("--json", "as_json", is_flag=True, help="Print the page as JSON.")
    def list_cmd(
        state: str | None, association: str | None, member_id: str | None, limit: int, offset: int, as_json: bool
    ) -> None:
        """List requests, newest first (ID numbers masked)."""
        from idsvc.clikit import services as get_services
        from idsvc.idchange import queries

        page = queries.list_requests(
            get_services(), _operator(), queries.Filters(state, association, member_id, limit, offset)
        )
        if as_json:
            click.echo(json.dumps(page, ensure_ascii=False, indent=2))
            return
        for item in page["items"]:
            click.echo(
                f"{item['request_id']}  {item['state']:<9}  {item['member_id']:<16} {item['association']:<6} "
                f"{item['old_id_number']} -> {item['new_id_number']}  {item['created_at']}"
            )
        click.echo(f"{len(page['items'])} of {page['total']}", err=True)

    @idchange.command("show")
    @click.argument("request_id")
    def show_cmd(request_id: str) -> None:
        """One request with its history, as JSON (ID numbers masked)."""
        from idsvc.clikit import services as get_services
        from idsvc.core.errors import IdsvcError
        from idsvc.idchange import queries

        try:
            detail = queries.detail(get_services(), _operator(), request_id)
        except IdsvcError as exc:
            raise click.ClickException(exc.message_en) from exc
        click.echo(json.dumps(detail, ensure_ascii=False, indent=2))
