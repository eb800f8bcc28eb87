"""The documents feature: signature and seal checks, the calibration sheet, filing."""

from __future__ import annotations

import click
from flask import Flask

from idsvc.documents import cli, models, openapi, views
from idsvc.webkit.openapi import add_paths

NAME = "documents"
__all__ = ["models"]  # importing the feature registers its tables


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)


def register_cli(group: click.Group) -> None:
    cli.register(group)
