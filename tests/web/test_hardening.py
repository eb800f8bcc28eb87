"""The web layer's shared defences (#9): bodies read the same whatever their framing, hostile JSON and
query strings answer 400, form-part floods 413 with the real limit, security headers everywhere, and
key authentication that does not need Redis."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.integration


def _error(response: Any) -> str:
    body = response.get_json() if hasattr(response, "get_json") else response.json()
    return str(body["error"]["code"])


def test_a_chunked_body_is_read_and_checked_like_any_other(
    live_server: str, platform_key: str, make_member: Any
) -> None:
    make_member()

    def chunks(payload: dict[str, Any]) -> Iterator[bytes]:
        data = json.dumps(payload).encode()
        yield data[:5]
        yield data[5:]

    headers = {"Authorization": platform_key, "Content-Type": "application/json"}
    ok = requests.post(f"{live_server}/v1/sessions", data=chunks({"member_id": "m-1001"}), headers=headers, timeout=10)
    assert ok.status_code == 201, ok.text
    # The same body checks apply: an unknown purpose sent chunked is refused, not skipped.
    bad = requests.post(
        f"{live_server}/v1/sessions",
        data=chunks({"member_id": "m-1001", "purpose": "nope"}),
        headers=headers,
        timeout=10,
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "invalid_input")


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 40 + "1" + "}" * 40,
        '{"member_id": "\\ud800"}',
        '{"member_id": "m-1001", "desktop": {"user_agent": "x\\udfff"}}',
        '{"member_id": "m"',
        "[]",
    ],
    ids=["nested-100k", "nested-40", "lone-surrogate", "surrogate-in-ua", "truncated", "array"],
)
def test_hostile_json_is_a_400_in_the_error_shape(client: Any, platform_key: str, make_member: Any, raw: str) -> None:
    make_member()
    response = client.post(
        "/v1/sessions", data=raw, headers={"Authorization": platform_key, "Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.data[:200]
    assert _error(response) == "invalid_json"


def test_a_body_of_another_type_is_refused(client: Any, platform_key: str) -> None:
    response = client.post(
        "/v1/sessions", data="member_id=m-1001", headers={"Authorization": platform_key, "Content-Type": "text/plain"}
    )
    assert (response.status_code, _error(response)) == (400, "invalid_json")


@pytest.mark.parametrize("value", ["99999999999999999999999", "²", "1e3", "-", " 5"])
def test_query_integers_are_ascii_and_bounded(client: Any, platform_key: str, make_member: Any, value: str) -> None:
    make_member()
    created = client.post("/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": platform_key})
    sid = created.get_json()["session_id"]
    response = client.get(f"/v1/sessions/{sid}", query_string={"wait": value}, headers={"Authorization": platform_key})
    assert (response.status_code, _error(response)) == (400, "invalid_input")


def test_thousands_of_form_parts_answer_413_naming_the_real_limit(client: Any, platform_key: str) -> None:
    boundary = "b0undary"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\nx\r\n' for i in range(3000))
    response = client.post(
        "/v1/id-records",
        data=(parts + f"--{boundary}--\r\n").encode(),
        headers={"Authorization": platform_key, "Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "too_many_form_parts"
    assert "MB" not in error["message"] and "50" in error["message"]


def test_security_headers_on_pages_api_and_errors(client: Any) -> None:
    for path in ("/demo", "/healthz", "/v1/openapi.json", "/no-such-page"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Referrer-Policy"] == "no-referrer", path
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], path
    page = client.get("/demo")
    csp = page.headers["Content-Security-Policy"]
    nonce = csp.split("'nonce-")[1].split("'")[0]
    # Every inline script carries this response's nonce; no other inline script could run.
    html = page.get_data(as_text=True)
    inline = [tag for tag in re.findall(r"<script[^>]*>", html) if "src=" not in tag]
    assert inline and all(f'nonce="{nonce}"' in tag for tag in inline)


def test_phone_pages_cannot_be_framed(client: Any) -> None:
    from tests.conftest import WECHAT_UA

    response = client.get("/m/not-a-token", headers={"User-Agent": WECHAT_UA})
    assert response.status_code == 400
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


@pytest.mark.settings(redis_url="redis://127.0.0.1:1/0")
def test_sql_only_endpoints_work_with_redis_refusing(client: Any, make_key: Any) -> None:
    """Key authentication audits a key's use through a Redis marker; with Redis down it skips
    the marker instead of failing the request (ID changes live only in SQL)."""
    key = make_key("national")
    response = client.get("/v1/id-changes", headers={"Authorization": key})
    assert response.status_code == 200, response.get_json()


@pytest.mark.settings(cors_origins="https://portal.example.org")
def test_the_widget_may_poll_from_a_configured_portal_origin(client: Any, platform_key: str, make_member: Any) -> None:
    make_member()
    s = client.post("/v1/sessions", json={"member_id": "m-1001"}, headers={"Authorization": platform_key}).get_json()
    path = f"/v1/sessions/{s['session_id']}"
    pre = client.options(path, headers={"Origin": "https://portal.example.org", "Access-Control-Request-Method": "GET"})
    assert pre.headers["Access-Control-Allow-Origin"] == "https://portal.example.org"
    assert "Authorization" in pre.headers["Access-Control-Allow-Headers"]
    got = client.get(
        path, headers={"Origin": "https://portal.example.org", "Authorization": f"Bearer {s['poll_token']}"}
    )
    assert got.status_code == 200 and got.headers["Access-Control-Allow-Origin"] == "https://portal.example.org"
    assert "Access-Control-Allow-Credentials" not in got.headers
    other = client.get(path, headers={"Origin": "https://evil.example", "Authorization": f"Bearer {s['poll_token']}"})
    assert "Access-Control-Allow-Origin" not in other.headers
    # The event stream the widget follows first: its preflight too (the body is not read here).
    events = client.options(
        f"{path}/events", headers={"Origin": "https://portal.example.org", "Access-Control-Request-Method": "GET"}
    )
    assert events.headers["Access-Control-Allow-Origin"] == "https://portal.example.org"
    # Only the widget's calls: creating sessions stays a back-end call.
    create = client.options("/v1/sessions", headers={"Origin": "https://portal.example.org"})
    assert "Access-Control-Allow-Origin" not in create.headers
