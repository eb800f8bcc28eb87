"""Signed tokens, one salt per purpose so a token minted for one use is useless for another.

The scan token is deterministic (same session → same token), so the QR image and the
``scan_url`` in the create response always agree; its lifetime is the session's own.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from idsvc.errors import IdsvcError

SCAN_SALT = "idsvc.qr.scan"


def make_scan_token(secret: str, session_id: str) -> str:
    return URLSafeSerializer(secret, salt=SCAN_SALT).dumps(session_id)


def read_scan_token(secret: str, token: str) -> str:
    """The session id the token names; 400 if it was tampered with."""
    try:
        value = URLSafeSerializer(secret, salt=SCAN_SALT).loads(token)
    except BadSignature:
        raise IdsvcError("invalid_token", "二维码无效或已被篡改，请重新扫码", "The QR code is invalid or was tampered with; scan again", status=400) from None
    if not isinstance(value, str):
        raise IdsvcError("invalid_token", "二维码无效", "The QR code is invalid", status=400)
    return value
