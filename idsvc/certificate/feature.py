"""The certificate feature: member status, the portrait, the member's electronic certificate."""

from __future__ import annotations

import logging

import click
from flask import Flask

from idsvc.certificate import cli, models, openapi, render, views
from idsvc.certificate.service import CertificateService
from idsvc.webkit.context import services
from idsvc.webkit.openapi import add_paths

NAME = "certificate"
log = logging.getLogger(__name__)
__all__ = ["models"]  # importing the feature registers its tables


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)
    with app.app_context():
        svc = services()
    app.extensions[views.SERVICE_KEY] = CertificateService(svc.settings, svc.db, svc.blobs, svc.clock)
    if not render.warm_up():
        log.warning("certificate font missing: %s (Debian package fonts-wqy-zenhei)", render.FONT_PATH)


def register_cli(group: click.Group) -> None:
    cli.register(group)
