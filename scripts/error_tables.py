"""Write the README's error tables from the catalogue: ``python scripts/error_tables.py``."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from idsvc.web.errortables import update  # noqa: E402

if __name__ == "__main__":
    print("README.md updated" if update(REPO / "README.md") else "README.md already up to date")
