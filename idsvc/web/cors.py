"""Cross-origin reads for the desktop widget (``/static/idsvc-qr.js``) on a portal's own origin.

Only the origins in ``IDSVC_CORS_ORIGINS`` (e.g. ``https://portal.example.org``), and only the calls
the widget makes: follow (event stream or poll) and cancel a session (poll token in ``Authorization``).  The QR
image is an ``<img>`` and needs no CORS.  No credentials (cookies) are ever allowed cross-origin.
"""

from __future__ import annotations

import re

from flask import Flask, Response, request

_WIDGET_PATHS = re.compile(r"^/v1/sessions/[A-Za-z0-9_-]{1,64}(/events)?$")


def parse_origins(spec: str) -> frozenset[str]:
    return frozenset(o.strip().rstrip("/") for o in spec.split(",") if o.strip())


def install(app: Flask, origins: frozenset[str]) -> None:
    if not origins:
        return

    @app.after_request
    def _cors(response: Response) -> Response:
        origin = request.headers.get("Origin", "")
        if origin in origins and _WIDGET_PATHS.match(request.path):
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Methods"] = "GET, DELETE"
            response.headers["Access-Control-Allow-Headers"] = "Authorization"
            response.headers["Access-Control-Max-Age"] = "600"
        response.headers.add("Vary", "Origin")
        return response
