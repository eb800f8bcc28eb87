"""The session API's input validation and auth, through Flask's test client (real Redis and SQL)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from idsvc.qr import sessions as sm

pytestmark = pytest.mark.integration  # real Redis and SQL behind the app


def create(client: Any, key: str, body: Any = None, **kw: Any) -> Any:
    return client.post(
        "/v1/sessions", json={"member_id": "m-1001"} if body is None else body, headers={"Authorization": key}, **kw
    )


def test_create_returns_the_documented_fields(client: Any, platform_key: str, member: Any) -> None:
    r = create(
        client,
        platform_key,
        {"member_id": "m-1001", "purpose": "login", "desktop": {"ip": "10.1.2.3", "user_agent": "UA"}},
    )
    assert r.status_code == 201
    body = r.get_json()
    for field in (
        "session_id",
        "poll_token",
        "status",
        "expires_at",
        "scan_url",
        "qr_png_url",
        "qr_svg_url",
        "match_code",
    ):
        assert body[field], field
    assert body["status"] == "pending"
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "member_id"),
        ({"member_id": 5}, "member_id"),
        ({"member_id": ""}, "member_id"),
        ({"member_id": "x" * 65}, "member_id"),
        ({"member_id": "m-1001", "purpose": "party"}, "purpose"),
        ({"member_id": "m-1001", "purpose": 3}, "purpose"),
        ({"member_id": "m-1001", "desktop": "pc"}, "desktop"),
        ({"member_id": "m-1001", "desktop": {"ip": "999.1.1.1"}}, "desktop.ip"),
        ({"member_id": "m-1001", "desktop": {"ip": 7}}, "ip"),
        ({"member_id": "m-1001", "desktop": {"user_agent": ["a"]}}, "user_agent"),
    ],
)
def test_create_rejects_bad_fields(client: Any, platform_key: str, member: Any, body: dict, field: str) -> None:
    r = create(client, platform_key, body)
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == "invalid_input" and err["details"]["field"] == field
    assert err["message"] and err["message_en"]


@pytest.mark.parametrize("raw", [b"{oops", b"[1, 2]", b'"str"', b"null", b""])
def test_create_rejects_bad_json(client: Any, platform_key: str, raw: bytes) -> None:
    r = client.post("/v1/sessions", data=raw, content_type="application/json", headers={"Authorization": platform_key})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"


def test_create_rejects_form_posts(client: Any, platform_key: str) -> None:
    r = client.post("/v1/sessions", data={"member_id": "m-1001"}, headers={"Authorization": platform_key})
    assert r.status_code == 400 and r.get_json()["error"]["code"] == "invalid_json"


def test_unknown_member_is_404(client: Any, platform_key: str) -> None:
    r = create(client, platform_key, {"member_id": "ghost"})
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "member_not_found"


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Basic abc", "Bearer idsvc_nope_nope", "Bearer idsvc_" + "a" * 300]
)
def test_missing_or_wrong_api_key_is_401(client: Any, header: str | None, member: Any) -> None:
    headers = {} if header is None else {"Authorization": header}
    r = client.post("/v1/sessions", json={"member_id": "m-1001"}, headers=headers)
    assert r.status_code == 401 and r.get_json()["error"]["code"] == "unauthorized"


def test_tampered_api_key_is_401(client: Any, platform_key: str, member: Any) -> None:
    tampered = platform_key[:-3] + ("abc" if not platform_key.endswith("abc") else "xyz")
    assert create(client, tampered).status_code == 401


@pytest.mark.parametrize("role", ["local", "national"])
def test_wrong_role_is_403(client: Any, make_key: Any, member: Any, role: str) -> None:
    r = create(client, make_key(role, "11"))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "wrong_role"


def test_unknown_routes_and_methods_use_the_error_shape(client: Any) -> None:
    r = client.get("/v1/nothing-here")
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.put("/v1/sessions")
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"


def test_oversize_body_is_413(client: Any, platform_key: str, settings: Any) -> None:
    big = b"{" + b" " * (settings.max_upload_bytes + 10) + b"}"
    r = client.post("/v1/sessions", data=big, content_type="application/json", headers={"Authorization": platform_key})
    assert r.status_code == 413 and r.get_json()["error"]["code"] == "payload_too_large"


def test_qr_image_needs_signature_or_token(client: Any, platform_key: str, member: Any) -> None:
    s = create(client, platform_key).get_json()
    sid = s["session_id"]
    assert client.get(f"/v1/sessions/{sid}/qr.png").status_code == 403
    assert client.get(f"/v1/sessions/{sid}/qr.png?sig=forged").status_code == 403
    assert (
        client.get(f"/v1/sessions/{sid}/qr.png", headers={"Authorization": f"Bearer {s['poll_token']}"}).status_code
        == 200
    )
    other = create(client, platform_key).get_json()
    sig = other["qr_png_url"].split("sig=")[1]
    assert client.get(f"/v1/sessions/{sid}/qr.svg?sig={sig}").status_code == 403


def test_health_and_readiness(client: Any) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.get_json()["checks"] == {"redis": "ok", "database": "ok"}


def test_readyz_is_503_when_redis_is_down(settings: Any) -> None:
    from idsvc.web.app import create_app

    broken = create_app(settings.replace(redis_url="redis://127.0.0.1:1/0"))
    r = broken.test_client().get("/readyz")
    assert r.status_code == 503 and r.get_json()["checks"]["redis"].startswith("unavailable")


def test_redis_down_is_503_not_500(settings: Any, make_key: Any, member: Any) -> None:
    from idsvc.web.app import create_app

    app = create_app(settings.replace(redis_url="redis://127.0.0.1:1/0"))
    r = app.test_client().get("/v1/sessions/abc", headers={"Authorization": "Bearer x"})
    assert r.status_code == 503 and r.get_json()["error"]["code"] == "store_unavailable"


def test_openapi_describes_every_v1_route(app: Any, client: Any) -> None:
    doc = client.get("/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.1")
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/v1/"):
            continue
        # `<any(signature, seal):kind>` stands for one documented path per option.
        variants = [rule.rule]
        m = re.search(r"<any\(([^)]*)\):\w+>", rule.rule)
        if m:
            variants = [rule.rule.replace(m.group(0), opt.strip()) for opt in m.group(1).split(",")]
        for variant in variants:
            path = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", variant)
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                if method.lower() not in doc["paths"].get(path, {}):
                    missing.append(f"{method} {path}")
    assert not missing, missing


def test_states_are_the_documented_names() -> None:
    assert sm.STATES == ("pending", "scanned", "confirmed", "verifying", "verified", "failed", "expired", "cancelled")
