"""Test actions that drive the real HTTP flow: a desktop (API client) and a phone (WeChat browser)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import requests

from tests.conftest import DESKTOP_UA, WECHAT_UA


@dataclass
class Desktop:
    base: str
    api_key: str

    def create(self, member_id: str = "m-1001", **body: Any) -> dict[str, Any]:
        payload = {
            "member_id": member_id,
            "purpose": "login",
            "desktop": {"ip": "203.0.113.7", "user_agent": DESKTOP_UA},
            **body,
        }
        r = requests.post(f"{self.base}/v1/sessions", json=payload, headers={"Authorization": self.api_key}, timeout=10)
        assert r.status_code == 201, r.text
        return r.json()

    def poll(
        self, s: dict[str, Any], wait: int | None = None, version: int | None = None, token: str | None = None
    ) -> requests.Response:
        params = {}
        if wait is not None:
            params["wait"] = wait
        if version is not None:
            params["version"] = version
        return requests.get(
            f"{self.base}/v1/sessions/{s['session_id']}",
            params=params,
            headers={"Authorization": f"Bearer {token or s['poll_token']}"},
            timeout=40,
        )

    def cancel(self, s: dict[str, Any]) -> requests.Response:
        return requests.delete(
            f"{self.base}/v1/sessions/{s['session_id']}",
            headers={"Authorization": f"Bearer {s['poll_token']}"},
            timeout=10,
        )


@dataclass
class Phone:
    """A phone inside WeChat: its openid is what mock_wechat will report for it."""

    openid: str
    user_agent: str = WECHAT_UA
    http: requests.Session = field(default_factory=requests.Session)
    last_callback: str = ""

    def __post_init__(self) -> None:
        self.http.headers.update({"User-Agent": self.user_agent, "X-Mock-Openid": self.openid})

    def open(self, url: str) -> requests.Response:
        return self.http.get(url, allow_redirects=False, timeout=10)

    def scan(self, scan_url: str) -> requests.Response:
        """Open the QR's URL and follow the OAuth redirects; returns the final response."""
        r = self.open(scan_url)
        hops = 0
        while r.status_code in (301, 302, 303) and hops < 6:
            location = r.headers["Location"].split("#", 1)[0]  # the #wechat_redirect fragment never leaves the browser
            if "/m/oauth/callback" in location:
                self.last_callback = location
            r = self.open(location if location.startswith("http") else requests.compat.urljoin(r.url, location))
            hops += 1
        return r

    @staticmethod
    def csrf(html: str) -> str:
        m = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
        assert m, "page has no csrf-token meta"
        return m.group(1)

    @staticmethod
    def choices(html: str) -> list[str]:
        return re.findall(r'name="match_code" value="(\d+)"', html)

    def confirm(self, base: str, session_id: str, code: str, csrf: str, as_json: bool = True) -> requests.Response:
        url = f"{base}/m/sessions/{session_id}/confirm"
        if as_json:
            return self.http.post(
                url,
                json={"match_code": code},
                headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
                allow_redirects=False,
                timeout=10,
            )
        return self.http.post(url, data={"match_code": code, "csrf_token": csrf}, allow_redirects=False, timeout=10)

    def upload(self, base: str, session_id: str, data: bytes, csrf: str, name: str = "video.mp4") -> requests.Response:
        """POST the video (202 when queued)."""
        return self.http.post(
            f"{base}/m/sessions/{session_id}/video",
            files={"video": (name, data, "video/mp4")},
            headers={"X-CSRF-Token": csrf, "Accept": "application/json"},
            timeout=60,
        )

    def follow(self, base: str, session_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Long-poll the phone's status until the queued video is decided (as the page does)."""
        for _ in range(20):
            if body.get("status") != "verifying":
                return body
            r = self.http.get(
                f"{base}/m/sessions/{session_id}/status",
                params={"wait": 25, "version": body["version"]},
                headers={"Accept": "application/json"},
                timeout=40,
            )
            assert r.status_code == 200, r.text
            body = r.json()
        raise AssertionError(f"still verifying: {body}")

    def verify(self, base: str, session_id: str, data: bytes, csrf: str, name: str = "video.mp4") -> dict[str, Any]:
        """Upload, then follow to the decision; returns the phone's final view."""
        r = self.upload(base, session_id, data, csrf, name)
        assert r.status_code == 202, r.text
        return self.follow(base, session_id, r.json())
