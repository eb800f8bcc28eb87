"""Bearer API-key authentication for the back-end API."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request
from sqlalchemy.exc import SQLAlchemyError

from idsvc.core import apikeys, audit
from idsvc.core.errors import UNAUTHORIZED, WRONG_ROLE, IdsvcError
from idsvc.core.services import Services
from idsvc.webkit.context import services

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

# Key use is audited at most this often per key, so busy integrations don't flood the chain.
KEY_USE_AUDIT_INTERVAL = 3600


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def current_principal(optional: bool = False) -> apikeys.Principal | None:
    """The API key's principal, or raise 401 (or return None when ``optional``)."""
    if "principal" in g:
        return g.principal  # type: ignore[no-any-return]
    token = bearer_token()
    principal = None
    if token and token.startswith("idsvc_"):
        svc = services()
        with svc.db.read() as session:
            principal = apikeys.authenticate(session, token)
        if principal is not None:
            _audit_key_use(svc, principal)
    if principal is None and not optional:
        raise UNAUTHORIZED()
    g.principal = principal
    return principal


def _audit_key_use(svc: Services, principal: apikeys.Principal) -> None:
    """Audit a key's use at most hourly.  Outside the SQL transaction above, and best effort: a
    Redis outage must not take SQL-only endpoints down with it (the marker then is skipped)."""
    marker = svc.store.key("apikey", "used", principal.key_id)
    try:
        first_this_hour = svc.store.set_once(marker, "1", KEY_USE_AUDIT_INTERVAL) is None
    except IdsvcError:
        log.warning("key-use marker unavailable; not auditing this use", extra={"fields": {"key_id": principal.key_id}})
        return
    if first_this_hour:
        route = request.url_rule.rule if request.url_rule else ""
        try:
            with svc.db.session(best_effort=True) as session:
                audit.record(session, "apikey.used", principal.actor, principal.key_id, {"path": route})
        except SQLAlchemyError:  # the database is busy or down: the request's own work decides
            log.warning("key use not audited (database unavailable)", extra={"fields": {"key_id": principal.key_id}})


def require_role(*roles: str) -> Callable[[F], F]:
    """Allow only API keys whose role is one of ``roles`` (401 without a key, 403 with another role)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            assert principal is not None
            if principal.role not in roles:
                raise WRONG_ROLE({"roles": list(roles)}, roles=" or ".join(roles))
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
