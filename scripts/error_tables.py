"""Write the README's error tables from the catalogue (``python scripts/error_tables.py``).

The block between ``<!-- errors:begin -->`` and ``<!-- errors:end -->`` in README.md is generated;
``tests/web/test_error_catalogue.py`` fails when it is out of date (run this script to refresh it).
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

BEGIN, END = "<!-- errors:begin -->", "<!-- errors:end -->"


def render() -> str:
    import idsvc.features  # noqa: F401 - loads every feature's catalogue
    import idsvc.web.app  # noqa: F401 - the web layer's own codes
    from idsvc.core.errors import catalogue

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


def update(readme: Path = REPO / "README.md") -> bool:
    text = readme.read_text()
    start, end = text.index(BEGIN), text.index(END) + len(END)
    new = text[:start] + render() + text[end:]
    if new != text:
        readme.write_text(new)
        return True
    return False


if __name__ == "__main__":
    print("README.md updated" if update() else "README.md already up to date")
