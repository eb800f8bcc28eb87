"""The certificate feature: member status, the portrait, the member's electronic certificate."""

from __future__ import annotations

import click
from flask import Flask

from idsvc.certificate import cli, models, openapi, views
from idsvc.certificate.service import CertificateService
from idsvc.webkit.context import services
from idsvc.webkit.openapi import add_paths

NAME = "certificate"
__all__ = ["models"]  # importing the feature registers its tables


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)
    with app.app_context():
        svc = services()
    app.extensions[views.SERVICE_KEY] = CertificateService(svc.settings, svc.db, svc.blobs, svc.clock)


def register_cli(group: click.Group) -> None:
    cli.register(group)
