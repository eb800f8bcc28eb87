"""Structured logs: one JSON object a line, with secrets and ID numbers kept out.

Callers pass facts as ``extra={"fields": {...}}``; this module never sees raw request paths
(scan tokens live in them), only route names.  Every line is cleaned on the way out, whoever
logged it — our code or a library such as urllib3, which at DEBUG prints the full URL of every
request (WeChat's ``…&secret=…&code=…``): :func:`scrub_secrets` blanks credential-like query
and JSON parameters and bearer tokens, :func:`scrub` masks ID numbers (see
:func:`idsvc.core.idnumber.mask_in_text`).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

from idsvc.core.idnumber import mask as mask_id_number
from idsvc.core.idnumber import mask_in_text

__all__ = ["JsonFormatter", "clean", "configure", "mask_id_number", "scrub", "scrub_secrets"]

# Parameter names whose values are credentials or capabilities: WeChat's OAuth (secret, code,
# access_token, refresh_token, openid, unionid, session_key, ticket), OAuth in general (state,
# client_secret, id_token) and the usual suspects.  Matched case-insensitively as whole names.
SECRET_PARAMS = (
    "secret",
    "appsecret",
    "app_secret",
    "client_secret",
    "code",
    "access_token",
    "refresh_token",
    "id_token",
    "openid",
    "unionid",
    "session_key",
    "ticket",
    "jsapi_ticket",
    "state",
    "token",
    "poll_token",
    "scan_token",
    "password",
    "passwd",
    "api_key",
    "apikey",
    "key",
    "signature",
    "sig",
)
MASK = "***"
_NAMES = "|".join(sorted(SECRET_PARAMS, key=len, reverse=True))
# ``?code=…`` / ``&secret=…`` (also ``;``), and the same inside a URL-encoded URL (a ``redirect_uri``).
_QUERY_PARAM = re.compile(rf"(?i)([?&;](?:{_NAMES})=)[^&;#\s\"'<>]*")
_ENCODED_PARAM = re.compile(rf"(?i)((?:%26|%3F)(?:{_NAMES})%3D)(?:(?!%26|%23)[^&;#\s\"'<>])*")
# ``"access_token": "…"`` in a logged JSON body, and ``'secret': '…'`` in a logged Python dict.
# Not ``code``/``state``/``key`` here: in JSON those are usually error codes and workflow states.
_JSON_NAMES = "|".join(n for n in sorted(SECRET_PARAMS, key=len, reverse=True) if n not in {"code", "state", "key"})
_JSON_PARAM = re.compile(rf"(?i)([\"'](?:{_JSON_NAMES})[\"']\s*:\s*[\"'])[^\"']*")
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+")


def scrub_secrets(text: str) -> str:
    """Blank the values of credential-like URL query and JSON parameters and bearer tokens."""
    text = _QUERY_PARAM.sub(rf"\g<1>{MASK}", text)
    text = _ENCODED_PARAM.sub(rf"\g<1>{MASK}", text)
    text = _JSON_PARAM.sub(rf"\g<1>{MASK}", text)
    return _BEARER.sub(rf"\g<1>{MASK}", text)


def scrub(text: str) -> str:
    """Mask anything in free text that is shaped like a 15- or 18-digit ID number."""
    return mask_in_text(text)


def clean(text: str) -> str:
    """What every log line goes through: secrets blanked, ID numbers masked."""
    return scrub(scrub_secrets(text))


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {k: _clean_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean_value(v) for v in value]
    return value


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": clean(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: _clean_value(v) for k, v in fields.items()})
        if record.exc_info:
            entry["exc"] = clean(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=lambda v: clean(str(v)))


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        root.setLevel(level)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.handlers = [handler]
    root.setLevel(level)
    # werkzeug's access log prints full paths, which hold scan tokens: ours replaces it.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
