"""`idsvc check signature|seal` and `idsvc sheet`: output and exit codes (0 pass/warn, 1 fail, 2 unevaluable)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from idsvc.cli import cli
from tests.factories.documents_defects import clean_signature_scan
from tests.factories.documents_synth import to_png


def _run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_check_signature_pass_json(tmp_path: Path) -> None:
    f = tmp_path / "sig.png"
    f.write_bytes(to_png(clean_signature_scan(), 300))
    r = _run("check", "signature", str(f), "--json")
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert body["verdict"] == "pass" and body["dpi_source"] == "declared"


def test_check_signature_fail_table(docs_dir: Path) -> None:
    r = _run("check", "signature", str(next(docs_dir.glob("*/vote_easy1.jpg"))))
    assert r.exit_code == 1
    assert "ink_black" in r.output and "FAIL" in r.output


def test_check_seal_with_template(docs_dir: Path, tmp_path: Path) -> None:
    f = str(next(docs_dir.glob("*/synth_seal_round16_red_ok.png")))
    assert _run("check", "seal", f).exit_code == 1  # default square 20 mm
    out = tmp_path / "seal.png"
    r = _run("check", "seal", f, "--shape", "round", "--size-mm", "16", "--text", "李华", "--asset-out", str(out))
    assert r.exit_code == 0, r.output
    assert out.read_bytes().startswith(b"\x89PNG")


def test_unreadable_input_exits_2(tmp_path: Path) -> None:
    f = tmp_path / "fake.png"
    f.write_text("not an image")
    r = _run("check", "signature", str(f), "--json")
    assert r.exit_code == 2 and json.loads(r.output)["error"]["code"] == "unsupported_format"
    assert _run("check", "seal", str(tmp_path / "missing.png")).exit_code == 2


def test_sheet_out(tmp_path: Path) -> None:
    out = tmp_path / "sheet.pdf"
    r = _run("sheet", "--out", str(out))
    assert r.exit_code == 0 and out.read_bytes().startswith(b"%PDF")
