"""Structured logs: one JSON object a line, with secrets and ID numbers kept out.

Callers pass facts as ``extra={"fields": {...}}``; this module never sees raw request paths
(scan tokens live in them), only route names.  :func:`mask_id_number` is the one masking rule.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])(\d{6})(\d{5,8})(\d{3}[\dXx])(?![0-9A-Za-z])")


def mask_id_number(value: str | None) -> str:
    """First 6 and last 4 characters, the rest as ``*`` (``310104********123X``)."""
    if not value:
        return ""
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def scrub(text: str) -> str:
    """Mask anything in free text that looks like a 15- or 18-digit ID number."""
    return _ID_NUMBER.sub(lambda m: mask_id_number(m.group(0)), text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": scrub(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            entry.update({k: scrub(v) if isinstance(v, str) else v for k, v in fields.items()})
        if record.exc_info:
            entry["exc"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


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
