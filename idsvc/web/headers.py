"""Security headers, set in one place for every response.

- Every response: ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer`` (phone URLs
  carry scan tokens), ``X-Frame-Options: DENY`` and CSP ``frame-ancestors 'none'``: the phone page
  is where a member approves a login, so no other site may frame it (clickjacking).
- HTML pages: a Content-Security-Policy that allows only this origin's scripts plus inline
  scripts carrying the request's nonce (``<script nonce="{{ csp_nonce() }}">``), so an injected
  script tag cannot run.  JSON and files get ``default-src 'none'``.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, g

_HTML_CSP = (
    "default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob: mediastream:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_OTHER_CSP = "default-src 'none'; frame-ancestors 'none'"
# Browsers render these themselves (PDF viewer, stylesheets, scripts the pages load).
_NO_CSP = ("application/pdf", "application/javascript", "text/javascript", "text/css")


def csp_nonce() -> str:
    """This request's script nonce (made on first use)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return str(g.csp_nonce)


def install(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("X-Frame-Options", "DENY")
        if response.mimetype == "text/html":
            headers.setdefault("Content-Security-Policy", _HTML_CSP.format(nonce=csp_nonce()))
        elif (response.mimetype or "") not in _NO_CSP:
            headers.setdefault("Content-Security-Policy", _OTHER_CSP)
        return response
