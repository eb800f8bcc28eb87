"""The desktop's event stream (``GET /v1/sessions/{id}/events``) over real HTTP: one event per change,
the end at a final state, the same authorisation and fair shares as the long-poll."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.qr.phone import Desktop, Phone

pytestmark = pytest.mark.integration


def _open(base: str, s: dict[str, Any], token: str | None = None, **params: Any) -> requests.Response:
    return requests.get(
        f"{base}/v1/sessions/{s['session_id']}/events",
        params=params,
        headers={"Authorization": f"Bearer {token or s['poll_token']}"},
        stream=True,
        timeout=30,
    )


def _events(r: requests.Response) -> Iterator[tuple[str, Any]]:
    """(kind, data) per event; ("keepalive", None) per comment."""
    kind, data = "", ""
    for line in r.iter_lines(decode_unicode=True):
        if line.startswith("retry: "):
            assert line == "retry: 2000"
        elif line.startswith(":"):
            yield "keepalive", None
        elif line.startswith("event: "):
            kind = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line == "" and kind:
            yield kind, json.loads(data)
            kind, data = "", ""


def test_each_change_is_one_event_and_the_stream_ends_when_final(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    r = _open(live_server, s)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/event-stream")
    assert r.headers["Cache-Control"] == "no-store"
    events = _events(r)
    assert next(events) == ("session", desktop.poll(s).json())  # the current state first

    phone = Phone("o_stream_phone")
    scanned_at = time.monotonic()
    page = phone.scan(s["scan_url"])
    kind, body = next(events)
    assert (kind, body["status"]) == ("session", "scanned")
    assert time.monotonic() - scanned_at < 10  # behaviour: woken by the change, not by a timeout
    phone.confirm(live_server, s["session_id"], s["match_code"], Phone.csrf(page.text))
    assert next(events)[1]["status"] == "confirmed"
    assert desktop.cancel(s).status_code == 200
    assert next(events)[1]["status"] == "cancelled"
    assert list(events) == []  # final: the server ended the stream


def test_version_skips_what_the_client_has_seen(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    r = _open(live_server, s, version=s["version"])
    events = _events(r)
    threading.Timer(0.5, desktop.cancel, (s,)).start()
    kind, body = next(events)  # not the pending state it already had
    assert (kind, body["status"], body["version"]) == ("session", "cancelled", s["version"] + 1)


def test_refused_like_the_long_poll(desktop: Desktop, live_server: str) -> None:
    s = desktop.create()
    other = desktop.create()
    wrong = _open(live_server, s, token=other["poll_token"])
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (403, "invalid_poll_token")
    assert _open(live_server, {**s, "session_id": "nope"}).status_code == 404
    assert _open(live_server, s, version="x").status_code == 400
    # Two streams per session (a page reload), not three; a stream that ends gives its share back.
    first, second = _open(live_server, s), _open(live_server, s)
    assert (first.status_code, second.status_code) == (200, 200)
    third = _open(live_server, s)
    assert (third.status_code, third.json()["error"]["code"]) == (429, "too_many_waiters")
    assert desktop.cancel(s).status_code == 200
    assert [body["status"] for _, body in _events(first) if body] == ["pending", "cancelled"]
    assert [body["status"] for _, body in _events(second) if body] == ["pending", "cancelled"]
    time.sleep(0.2)  # the server closes the response (and returns the shares) after the last byte
    again = _open(live_server, s)
    assert again.status_code == 200
    assert [body["status"] for _, body in _events(again) if body] == ["cancelled"]
