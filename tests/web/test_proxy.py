"""The client address behind trusted proxies (#10.2): X-Forwarded-For believed only from them."""

from __future__ import annotations

from typing import Any

import pytest

from idsvc.core.settings import ConfigError, Settings
from idsvc.web.proxy import client_address, parse_networks

TRUSTED = parse_networks("127.0.0.1, 10.0.0.0/8")


@pytest.mark.parametrize(
    ("peer", "xff", "expected"),
    [
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),  # through our TLS proxy
        ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),  # two trusted hops
        ("127.0.0.1", "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # a forged left part is ignored
        ("198.51.100.9", "203.0.113.7", "198.51.100.9"),  # not from a proxy: header ignored
        ("127.0.0.1", "not-an-ip", "127.0.0.1"),
        ("127.0.0.1", None, "127.0.0.1"),
        ("127.0.0.1", "10.0.0.1, 10.0.0.2", "10.0.0.1"),
    ],
)
def test_client_address(peer: str, xff: str | None, expected: str) -> None:
    assert client_address(peer, xff, TRUSTED) == expected


def test_no_trusted_proxies_means_the_connection_address() -> None:
    assert client_address("127.0.0.1", "203.0.113.7", ()) == "127.0.0.1"


def test_a_bad_setting_fails_at_start() -> None:
    with pytest.raises(ConfigError, match="IDSVC_TRUSTED_PROXIES"):
        Settings.from_env({"IDSVC_TRUSTED_PROXIES": "10.0.0.0/8, example.com"})


@pytest.mark.settings(trusted_proxies="127.0.0.1")
def test_the_app_sees_the_forwarded_client(app: Any) -> None:
    from flask import request

    @app.get("/_t/addr")
    def addr() -> str:
        return request.remote_addr or ""

    client = app.test_client()
    got = client.get("/_t/addr", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert got.get_data(as_text=True) == "203.0.113.7"
    direct = client.get(
        "/_t/addr", headers={"X-Forwarded-For": "203.0.113.7"}, environ_base={"REMOTE_ADDR": "198.51.100.1"}
    )
    assert direct.get_data(as_text=True) == "198.51.100.1"
