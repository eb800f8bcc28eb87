"""The README's error tables, rendered from the catalogue (``python scripts/error_tables.py``).

The block between ``<!-- errors:begin -->`` and ``<!-- errors:end -->`` in README.md is generated;
a test fails when it is out of date.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from idsvc.core.errors import catalogue

BEGIN, END = "<!-- errors:begin -->", "<!-- errors:end -->"


def render() -> str:
    import idsvc.features
    import idsvc.web.app  # noqa: F401 - the web layer's own codes

    by_owner = defaultdict(list)
    for spec in catalogue().values():
        by_owner[spec.owner].append(spec)
    lines = [BEGIN]
    for owner in sorted(by_owner, key=lambda o: (o != "core", o)):
        lines += ["", f"**{owner}**", "", "| code | status | message (zh-CN) | message (en) |", "|---|---|---|---|"]
        for spec in sorted(by_owner[owner], key=lambda s: (s.status, s.code)):
            zh = spec.message.replace("|", "\\|")
            en = spec.message_en.replace("|", "\\|")
            lines.append(f"| `{spec.code}` | {spec.status} | {zh} | {en} |")
    lines += ["", END]
    return "\n".join(lines)


def update(readme: Path) -> bool:
    text = readme.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + render() + text[end:]
    if new != text:
        readme.write_text(new)
        return True
    return False
