"""Signed tokens, one salt per purpose so a token minted for one use is useless for another.

The scan token is ``<session id>.<signature>`` (itsdangerous ``Signer``): deterministic, so the QR
image and the ``scan_url`` in the create response always agree, and short, so the QR stays at a
low version with large modules.  Its lifetime is the session's own.
"""

from __future__ import annotations

import re

from itsdangerous import BadSignature, Signer

from idsvc.qr import errors

SCAN_SALT = "idsvc.qr.scan"
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def make_scan_token(secret: str, session_id: str) -> str:
    return Signer(secret, salt=SCAN_SALT).sign(session_id).decode()


def read_scan_token(secret: str, token: str) -> str:
    """The session id the token names; 400 if it was tampered with."""
    try:
        value = Signer(secret, salt=SCAN_SALT).unsign(token).decode()
    except (BadSignature, UnicodeDecodeError):
        raise errors.INVALID_TOKEN() from None
    if not _SESSION_ID.match(value):
        raise errors.INVALID_TOKEN()
    return value
