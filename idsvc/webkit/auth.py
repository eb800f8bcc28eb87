"""Bearer API-key authentication for the back-end API."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from flask import g, request

from idsvc.core import apikeys, audit
from idsvc.core.errors import forbidden, unauthorized
from idsvc.webkit.context import services

F = TypeVar("F", bound=Callable[..., Any])

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
        with svc.db.session() as session:
            principal = apikeys.authenticate(session, token)
            if principal is not None:
                marker = svc.store.key("apikey", "used", principal.key_id)
                if svc.store.set_once(marker, "1", KEY_USE_AUDIT_INTERVAL) is None:
                    audit.record(
                        session,
                        "apikey.used",
                        principal.actor,
                        principal.key_id,
                        {"path": request.url_rule.rule if request.url_rule else ""},
                    )
    if principal is None and not optional:
        raise unauthorized()
    g.principal = principal
    return principal


def require_role(*roles: str) -> Callable[[F], F]:
    """Allow only API keys whose role is one of ``roles`` (401 without a key, 403 with another role)."""

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = current_principal()
            assert principal is not None
            if principal.role not in roles:
                raise forbidden(
                    "wrong_role", "当前 API 密钥的角色无权执行此操作", f"This endpoint needs role {' or '.join(roles)}"
                )
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorator
