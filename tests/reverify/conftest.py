from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from idsvc.core.db import IdRecord, Member
from idsvc.core.settings import Settings
from tests.conftest import DESKTOP_UA
from tests.qr.phone import Phone

TEMPLATE = "tpl_reverify_test"
FAKE_MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 200


def digest(form: dict[str, Any]) -> str:
    return hashlib.sha256(repr(sorted(form.items())).encode()).hexdigest()


FORM = {"member_id": "m-1001", "to_firm": "北京某某资产评估有限公司"}
DIGEST = digest(FORM)


@pytest.fixture
def settings(settings: Settings, wechat_server: str) -> Settings:
    """The real mock WeChat over HTTP (OAuth and the official account), pushes on, one-action challenges."""
    return settings.replace(
        wechat_api_base=f"{wechat_server}/",
        wechat_oauth_base=f"{wechat_server}/connect/",
        wechat_template_id=TEMPLATE,
        challenges=("blink",),
        challenge_actions=1,
    )


@pytest.fixture
def openid() -> str:
    return "o_rv_" + uuid.uuid4().hex[:16]


@pytest.fixture
def member(make_member: Any, services: Any, openid: str) -> Member:
    """m-1001 with a bound WeChat and an ID record."""
    m = make_member()
    with services.db.session() as db:
        db.get(Member, "m-1001").openid = openid
        db.add(IdRecord(id_number=m.id_number, name=m.name, encoding=b"\x00" * 1024, source="test"))
    return m


@dataclass
class Caller:
    """A calling service (its API key) over HTTP."""

    base: str
    key: str

    def create(self, member_id: str = "m-1001", **body: Any) -> requests.Response:
        payload = {
            "member_id": member_id,
            "action": "transfer.submit",
            "payload_digest": DIGEST,
            "desktop": {"ip": "203.0.113.7", "user_agent": DESKTOP_UA},
            **body,
        }
        return requests.post(
            f"{self.base}/v1/reverifications", json=payload, headers={"Authorization": self.key}, timeout=20
        )

    def created(self, **body: Any) -> dict[str, Any]:
        r = self.create(**body)
        assert r.status_code == 201, r.text
        return dict(r.json())

    def consume(
        self, sid: str, action: str = "transfer.submit", payload_digest: str = DIGEST, key: str | None = None
    ) -> requests.Response:
        return requests.post(
            f"{self.base}/v1/reverifications/{sid}/consume",
            json={"action": action, "payload_digest": payload_digest},
            headers={"Authorization": key or self.key},
            timeout=20,
        )

    def poll(self, s: dict[str, Any]) -> dict[str, Any]:
        r = requests.get(
            f"{self.base}/v1/sessions/{s['session_id']}",
            headers={"Authorization": f"Bearer {s['poll_token']}"},
            timeout=20,
        )
        assert r.status_code == 200, r.text
        return dict(r.json())


@pytest.fixture
def service_key(make_key: Any) -> str:
    return str(make_key("service", name="transfer"))


@pytest.fixture
def caller(live_server: str, service_key: str, member: Member) -> Caller:
    return Caller(live_server, service_key)


def complete(base: str, phone: Phone, s: dict[str, Any], url: str | None = None, video: bytes = FAKE_MP4) -> str:
    """The bound phone: open the link (QR or pushed), pick the number, record; → the page's HTML at the start."""
    page = phone.scan(url or s["scan_url"])
    assert page.status_code == 200, page.text
    csrf = Phone.csrf(page.text)
    r = phone.confirm(base, s["session_id"], s["match_code"], csrf)
    assert r.status_code == 200 and r.json()["status"] == "confirmed", r.text
    body = phone.verify(base, s["session_id"], video, csrf)
    assert body["status"] == "verified", body
    return page.text


def delivered(wechat_server: str, openid: str) -> list[dict[str, Any]]:
    r = requests.get(f"{wechat_server}/_mock/mp/messages", params={"touser": openid}, timeout=10)
    return list(r.json()["messages"])
