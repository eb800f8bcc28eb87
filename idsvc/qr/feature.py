"""The qr feature: verification sessions (back-end API) and the member's phone pages."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from idsvc.core import signals
from idsvc.core.services import Services
from idsvc.qr import openapi, phone, views
from idsvc.qr.service import QrSessions
from idsvc.webkit.context import SERVICES_KEY
from idsvc.webkit.openapi import add_paths

NAME = "qr"


def register(app: Flask) -> None:
    svc: Services = app.extensions[SERVICES_KEY]
    app.register_blueprint(views.bp)
    app.register_blueprint(phone.bp)
    add_paths(app, openapi.PATHS)

    def end_open_sessions(sender: Services, *, member_id: str, actor: str, **_: Any) -> None:
        QrSessions(sender).cancel_open_for_member(member_id, actor)

    signals.member_identity_changed.connect(end_open_sessions, sender=svc, weak=False)


def register_cli(cli: click.Group) -> None:
    """No commands of its own."""
