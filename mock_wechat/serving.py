"""werkzeug's threaded server with an access log that never prints secrets or tokens.

WeChat's API takes ``secret``, ``code`` and tokens in the query string, so a plain access log
would write them out; this handler masks those values.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

_SENSITIVE = re.compile(r"(?<=[?&])(secret|code|access_token|refresh_token)=[^&\s\"]*")


def redact(text: str) -> str:
    """``...&secret=abc&code=xyz`` → ``...&secret=***&code=***``."""
    return _SENSITIVE.sub(r"\1=***", text)


class RedactingRequestHandler(WSGIRequestHandler):
    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, message, *(redact(a) if isinstance(a, str) else a for a in args))


def make_mock_server(app: Flask, host: str, port: int) -> BaseWSGIServer:
    return make_server(host, port, app, threaded=True, request_handler=RedactingRequestHandler)
