"""The liveness feature: ID records (reference faces) and the video analysis."""

from __future__ import annotations

import click
from flask import Flask

from idsvc.core import signals
from idsvc.liveness import cli, faces, openapi, video, views
from idsvc.webkit.openapi import add_paths

NAME = "liveness"


def register(app: Flask) -> None:
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)
    signals.worker_starting.connect(_prepare_worker, weak=False)


def _prepare_worker(sender: object) -> None:
    """An analysis worker process: one core, models loaded before the first job.

    ``idsvc worker --processes N`` runs one process per core; decoders and OpenCV spreading each
    job over every core would only make the N processes fight over them.
    """
    import cv2

    cv2.setNumThreads(1)
    video.decoder_threads = 1
    faces.engine()


def register_cli(group: click.Group) -> None:
    cli.register(group)
