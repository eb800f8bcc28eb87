"""The idchange feature: ID-number change requests and their review."""

from __future__ import annotations

import click
from flask import Flask

from idsvc.idchange import cli, models, openapi, views
from idsvc.webkit.openapi import add_paths

NAME = "idchange"
__all__ = ["models"]  # importing the feature registers its tables


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)


def register_cli(group: click.Group) -> None:
    cli.register(group)
