"""The README stays true to the code: the error tables are the catalogue, and every IDSVC_* variable
the settings read is documented."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_error_tables_are_generated_from_the_catalogue() -> None:
    import idsvc.web.errortables as tables

    readme = (REPO / "README.md").read_text()
    block = readme[readme.index(tables.BEGIN) : readme.index(tables.END) + len(tables.END)]
    assert block == tables.render(), "README error tables are stale: run `python scripts/error_tables.py`"


def test_every_setting_is_documented() -> None:
    source = (REPO / "idsvc" / "core" / "settings.py").read_text()
    read = set(re.findall(r'get(?:_int|_float)?\("([A-Z_]+)"', source)) | set(re.findall(r'"IDSVC_([A-Z_]+)"', source))
    readme = (REPO / "README.md").read_text()
    names = {n.removeprefix("IDSVC_") for n in read}
    missing = sorted(n for n in names if f"IDSVC_{n}" not in readme)
    assert not missing, f"settings not in README's Configuration table: {missing}"
