"""The attempts feature: per-member limits on failed face verifications (#16).

The qr feature asks :class:`FaceAttempts` before a session or re-verification is created and
before a video is analysed; it announces each decision with ``signals.face_verification_decided``,
which this feature counts.
"""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from idsvc.attempts import cli, openapi, views
from idsvc.attempts.limits import FaceAttempts
from idsvc.core import signals
from idsvc.core.errors import IdsvcError
from idsvc.core.services import Services
from idsvc.webkit.context import SERVICES_KEY
from idsvc.webkit.openapi import add_paths

NAME = "attempts"


def register(app: Flask) -> None:
    svc: Services = app.extensions[SERVICES_KEY]
    attempts = FaceAttempts(svc.store, svc.db, svc.settings, svc.clock)
    app.extensions[views.SERVICE_KEY] = attempts
    app.register_blueprint(views.bp)
    add_paths(app, openapi.PATHS)

    def count_failure(
        sender: Services, *, member_id: str, passed: bool, reason: str | None, session_id: str, actor: str, **_: Any
    ) -> None:
        if not passed:
            attempts.record_failure(member_id, reason, session_id=session_id, actor=actor)

    def lock_state(sender: Services, *, member_id: str, **_: Any) -> dict[str, Any]:
        try:
            return {"face_verification": attempts.view(member_id)}
        except IdsvcError:  # Redis down: the member's SQL record is still answered
            return {"face_verification": {"unavailable": True}}

    signals.face_verification_decided.connect(count_failure, sender=svc, weak=False)
    signals.member_view.connect(lock_state, sender=svc, weak=False)


def register_cli(group: click.Group) -> None:
    cli.register(group)
