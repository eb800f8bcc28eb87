"""Log lines never carry credentials or ID numbers, whichever library wrote them (core/logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import requests

from idsvc.core.logs import JsonFormatter, clean, scrub_secrets
from idsvc.qr.wechat import WeChatClient

SECRET = "test_secret"  # the root conftest's mock WeChat app secret


class _Raw(logging.Handler):
    """Keeps the unformatted messages, to show what a plain formatter would have written."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append((record.name, record.getMessage()))


@pytest.fixture
def debug_log() -> Iterator[tuple[io.StringIO, _Raw]]:
    """Root logger at DEBUG (as with IDSVC_LOG_LEVEL=DEBUG) with our formatter on a buffer."""
    root = logging.getLogger()
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    handler.setLevel(logging.DEBUG)
    raw = _Raw()
    old_level = root.level
    root.addHandler(handler)
    root.addHandler(raw)
    root.setLevel(logging.DEBUG)
    try:
        yield buffer, raw
    finally:
        root.removeHandler(handler)
        root.removeHandler(raw)
        root.setLevel(old_level)


def test_urllib3_debug_lines_of_the_wechat_code_exchange_hide_secret_and_code(
    wechat_server: str, debug_log: tuple[io.StringIO, _Raw]
) -> None:
    buffer, raw = debug_log
    minted = requests.post(f"{wechat_server}/_mock/codes", json={"openid": "o_member_A"}, timeout=5).json()
    code = minted["code"]
    client = WeChatClient(appid="wx_test_appid", secret=SECRET, api_base=f"{wechat_server}/", oauth_base="unused/")
    assert client.exchange_code(code) == "o_member_A"

    # urllib3 really logged the full query string (so the test can fail) ...
    leaked = [m for name, m in raw.messages if name.startswith("urllib3") and "/sns/oauth2/access_token?" in m]
    assert leaked and f"secret={SECRET}" in leaked[0] and f"code={code}" in leaked[0]
    # ... and the formatted line is one JSON object with the values blanked.
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    exchange = [e for e in lines if e["logger"].startswith("urllib3") and "/sns/oauth2/access_token?" in e["msg"]]
    assert exchange
    assert "secret=***" in exchange[0]["msg"] and "code=***" in exchange[0]["msg"]
    assert "appid=wx_test_appid" in exchange[0]["msg"]  # not a credential: kept for debugging
    assert SECRET not in buffer.getvalue() and code not in buffer.getvalue()


def test_a_failed_exchange_traceback_hides_the_query_too(debug_log: tuple[io.StringIO, _Raw]) -> None:
    buffer, _ = debug_log
    try:
        requests.get("http://127.0.0.1:9/sns/oauth2/access_token?appid=wx&secret=s3cr3t&code=c0de", timeout=1)
    except requests.RequestException:
        logging.getLogger("idsvc.qr").exception("wechat unreachable")
    text = buffer.getvalue()
    assert "wechat unreachable" in text and "secret=***" in text
    assert "s3cr3t" not in text and "c0de" not in text


def test_third_party_lines_with_id_numbers_are_masked(debug_log: tuple[io.StringIO, _Raw]) -> None:
    buffer, _ = debug_log
    logging.getLogger("some.library").info("[generated] (%r, %r)", "ID12010519800101123X", "120105-19800101-123X")
    logging.getLogger("idsvc.test").info("x", extra={"fields": {"note": {"n": ["1201 0519 8001 0112 3X"]}}})
    text = buffer.getvalue()
    assert "12010519800101123X" not in text and "19800101" not in text and "0519 8001" not in text
    assert "120105********123X" in text and "120105-********-123X" in text and "1201 05** **** **12 3X" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("GET /x?appid=a&secret=S&code=C&grant_type=g", "GET /x?appid=a&secret=***&code=***&grant_type=g"),
        ("/sns/userinfo?access_token=T&openid=O&lang=zh_CN", "/sns/userinfo?access_token=***&openid=***&lang=zh_CN"),
        ("/m/cb?CODE=c&State=s#wechat_redirect", "/m/cb?CODE=***&State=***#wechat_redirect"),
        (
            "redirect_uri=https%3A%2F%2Fh%2Fm%3Fcode%3Dabc%26state%3Dxyz",
            "redirect_uri=https%3A%2F%2Fh%2Fm%3Fcode%3D***%26state%3D***",
        ),
        (
            '{"access_token": "T", "openid": "O", "code": "session_expired"}',
            '{"access_token": "***", "openid": "***", "code": "session_expired"}',
        ),
        ("Authorization: Bearer idsvc_abc.DEF-1", "Authorization: Bearer ***"),
        ("?encode=1&barcode=2&postcode=3", "?encode=1&barcode=2&postcode=3"),
    ],
)
def test_scrub_secrets(text: str, expected: str) -> None:
    assert scrub_secrets(text) == expected


def test_clean_does_both() -> None:
    assert clean("?code=110101199003078515 and 110101199003078515") == "?code=*** and 110101********8515"
