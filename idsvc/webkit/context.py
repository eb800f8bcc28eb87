"""The current app's :class:`~idsvc.core.services.Services` and feature services, for views."""

from __future__ import annotations

from typing import Any, TypeVar, cast

from flask import current_app

from idsvc.core.services import Services

T = TypeVar("T")

SERVICES_KEY = "idsvc"


def services() -> Services:
    """The current app's core services (inside a request or app context)."""
    return cast(Services, current_app.extensions[SERVICES_KEY])


def feature_service(key: str, kind: type[T]) -> T:
    """A feature's service object, put in ``app.extensions[key]`` by the feature's ``register``."""
    value: Any = current_app.extensions[key]
    assert isinstance(value, kind), f"{key} is {type(value).__name__}, expected {kind.__name__}"
    return value
