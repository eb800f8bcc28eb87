"""The qr error catalogue: one status and one text per code, and the README's table agrees with it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from idsvc.core.errors import catalogue, define
from idsvc.qr import errors

README = Path(__file__).resolve().parents[2] / "README.md"


def qr_codes() -> dict[str, int]:
    import idsvc.features  # noqa: F401  (loads every feature's catalogue)

    return {code: spec.status for code, spec in catalogue().items() if spec.owner == "qr"}


def test_readme_error_table_lists_every_qr_code_with_its_status() -> None:
    text = README.read_text()
    section = text[text.index("## Errors") : text.index("## The phone")]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| (`[^|]+`) \| (\d{3}) \|", line)
        if m:
            for code in re.findall(r"`([a-z_]+)`", m.group(1)):
                rows[code] = int(m.group(2))
    wrong = {code: (status, rows.get(code)) for code, status in qr_codes().items() if rows.get(code) != status}
    assert not wrong, wrong


def test_invalid_state_means_one_thing() -> None:
    assert errors.INVALID_STATE.status == 409
    assert errors.OAUTH_STATE_INVALID.status == 400 and errors.OAUTH_STATE_INVALID.code == "oauth_state_invalid"
    assert errors.WECHAT_AUTH_FAILED.status == 400 and errors.WECHAT_UNAVAILABLE.status == 502


def test_a_second_text_for_a_code_fails_at_import() -> None:
    with pytest.raises(ValueError):
        define("session_expired", 410, "二维码已过期", "The QR code has expired", owner="qr")


def test_no_inline_errors_left_in_the_qr_package() -> None:
    package = Path(errors.__file__).parent
    offenders = [
        f"{path.name}:{n}"
        for path in sorted(package.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if re.search(r"IdsvcError\(|\bnot_found\(|\bforbidden\(|\bconflict\(", line)
    ]
    assert not offenders, offenders
