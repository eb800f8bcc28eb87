"""The reverify operations fuzzed from the OpenAPI document like tests/hostile/test_openapi_fuzz.py
(no 5xx, documented statuses, content types and schemas), with a platform and a service key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings

from tests.hostile.test_openapi_fuzz import CHECKS, MAX_EXAMPLES

OPERATIONS = [
    "POST /v1/reverifications",
    "POST /v1/reverifications/{session_id}/consume",
    "DELETE /v1/members/{member_id}/wechat",
]


@pytest.mark.integration
@pytest.mark.parametrize("role", ["platform", "service"])
@pytest.mark.parametrize("operation", OPERATIONS)
def test_fuzz_reverify_operation(
    app: Any, make_key: Callable[..., str], member: Any, role: str, operation: str
) -> None:
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    key = make_key(role)
    method, path = operation.split(" ", 1)
    failures: list[str] = []

    @given(case=schema[path][method].as_strategy())
    @hsettings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        headers = {"Authorization": key} if "Authorization" not in (case.headers or {}) else None
        try:
            case.call_and_validate(headers=headers, checks=CHECKS)
        except Exception as exc:
            failures.append("\n".join(str(exc).splitlines()[:12]))
            raise

    try:
        run()
    except Exception:
        pytest.fail(f"{operation} as {role}:\n" + "\n---\n".join(dict.fromkeys(failures)))
