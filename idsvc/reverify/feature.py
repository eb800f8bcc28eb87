"""The reverify feature: re-verification before a sensitive submission (``/v1/reverifications``)."""

from __future__ import annotations

import click
from flask import Flask

from idsvc.core.services import Services
from idsvc.core.wechat_mp import OfficialAccount
from idsvc.qr import service as qr_service
from idsvc.qr.service import QrSessions
from idsvc.reverify import openapi, views
from idsvc.reverify.service import Reverifications
from idsvc.webkit.context import SERVICES_KEY
from idsvc.webkit.openapi import add_paths

NAME = "reverify"


def build(svc: Services, sessions: QrSessions) -> Reverifications:
    settings = svc.settings
    mp = None
    if settings.wechat_template_id:
        mp = OfficialAccount(
            settings.wechat_appid, str(settings.wechat_secret), settings.wechat_api_base, svc.store, svc.clock
        )
    return Reverifications(sessions, svc.db, settings, mp)


def register(app: Flask) -> None:
    svc: Services = app.extensions[SERVICES_KEY]
    sessions: QrSessions = app.extensions[qr_service.EXTENSION]
    rv = build(svc, sessions)
    sessions.scan_guards.append(rv.guard_scan)
    app.extensions[views.EXTENSION] = rv
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)


def register_cli(cli: click.Group) -> None:
    """No commands of its own (keys: ``idsvc apikey create --role service``)."""
