"""What feature CLI modules share: the process's services, or the ones a caller passed in.

``idsvc`` commands take their :class:`~idsvc.core.services.Services` from click's context object
when one was given (tests: ``CliRunner().invoke(cli, args, obj=services)``), else build them once
from the ``IDSVC_*`` environment.
"""

from __future__ import annotations

import click

from idsvc.core.services import Services, from_env
from idsvc.core.settings import ConfigError


def services() -> Services:
    ctx = click.get_current_context(silent=True)
    given = ctx.find_object(Services) if ctx is not None else None
    if given is not None:
        return given
    try:
        return from_env()
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
