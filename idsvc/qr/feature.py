"""The qr feature: verification sessions (back-end API) and the member's phone pages."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask

from idsvc.attempts import FaceAttempts
from idsvc.attempts.views import SERVICE_KEY as ATTEMPTS_EXTENSION
from idsvc.core import signals
from idsvc.core.services import Services
from idsvc.qr import challenges, limits, oauth, openapi, phone, service, views
from idsvc.qr.limits import RateLimiter
from idsvc.qr.oauth import PhoneOAuth
from idsvc.qr.service import QrSessions
from idsvc.qr.verify import LivenessAnalyser
from idsvc.qr.wechat import WeChatClient
from idsvc.webkit.context import SERVICES_KEY
from idsvc.webkit.openapi import add_paths

NAME = "qr"


def build(svc: Services, attempts: FaceAttempts | None = None) -> tuple[QrSessions, PhoneOAuth, RateLimiter]:
    """The feature's services over the app's core services (one set per app)."""
    settings = svc.settings
    sessions = QrSessions(
        store=svc.store,
        db=svc.db,
        notifier=svc.notifier,
        settings=settings,
        clock=svc.clock,
        pick_challenge=challenges.picker(settings),
        analyser=LivenessAnalyser(svc.db),
        attempts=attempts,
        queue=svc.queue,
        on_decided=lambda **decision: _announce(svc, decision),
    )
    svc.queue.register(service.JOB, sessions.run_verification)
    wechat = WeChatClient(
        settings.wechat_appid, str(settings.wechat_secret), settings.wechat_api_base, settings.wechat_oauth_base
    )
    phone_oauth = PhoneOAuth(svc.store, svc.db, wechat, settings.session_ttl)
    limiter = RateLimiter(svc.store, {"scan": limits.SCANS_PER_MINUTE, "create": settings.rate_limit_per_minute * 10})
    return sessions, phone_oauth, limiter


def _announce(svc: Services, decision: dict[str, Any]) -> None:
    signals.face_verification_decided.send(svc, **decision)


def register(app: Flask) -> None:
    svc: Services = app.extensions[SERVICES_KEY]
    sessions, phone_oauth, limiter = build(svc, app.extensions.get(ATTEMPTS_EXTENSION))
    app.extensions[service.EXTENSION] = sessions
    app.extensions[oauth.EXTENSION] = phone_oauth
    app.extensions[limits.EXTENSION] = limiter
    app.register_blueprint(views.bp)
    app.register_blueprint(phone.bp)
    add_paths(app, openapi.PATHS)

    def end_open_sessions(sender: Services, *, member_id: str, actor: str, **_: Any) -> None:
        sessions.cancel_open_for_member(member_id, actor)

    signals.member_identity_changed.connect(end_open_sessions, sender=svc, weak=False)


def register_cli(cli: click.Group) -> None:
    """No commands of its own."""
