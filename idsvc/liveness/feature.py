"""The liveness feature: ID records (reference faces) and the video analysis."""

from __future__ import annotations

import click
from flask import Flask

from idsvc.liveness import cli, openapi, views
from idsvc.webkit.openapi import add_paths

NAME = "liveness"


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)


def register_cli(group: click.Group) -> None:
    cli.register(group)
