"""CLI commands of idsvc.documents.

    idsvc check signature FILE [--dpi N] [--json]
    idsvc check seal FILE [--dpi N] [--shape round|square|oval] [--size-mm W[xH]] [--text NAME] [--json]
    idsvc sheet --out FILE

Exit status: 0 when the verdict is pass or warn, 1 on fail, 2 when the input could not be
evaluated (unreadable/unsupported file, or a verdict of "unable").
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from idsvc.core.errors import IdsvcError
from idsvc.core.services import Services
from idsvc.core.settings import ConfigError, SealSettings, Settings

from .result import Result, Verdict

_MARK = {"pass": "✔", "warn": "!", "fail": "✘", "unable": "?"}


def _fmt_value(v: object) -> str:
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, (list, tuple)):
        return "×".join(_fmt_value(x) for x in v)
    return str(v)


def _table(result: Result) -> str:
    d = result.to_dict()
    lines = [f"{result.kind}: {d['verdict'].upper()}   dpi={_fmt_value(d['dpi'])} ({d['dpi_source']})"]
    for c in d["checks"]:
        val = f"{_fmt_value(c['value'])} {c['unit']}".strip()
        lines.append(
            f"  {_MARK[c['verdict']]} {c['id']:<17} {c['verdict']:<6} {val:<18} {c['message']} / {c['message_en']}"
        )
    if d.get("similarity"):
        lines.append(f"  similarity to the filed signature: {d['similarity']['score']} (for a reviewer)")
    return "\n".join(lines)


def _emit(result: Result, as_json: bool, asset_out: Path | None) -> None:
    if asset_out is not None and result.asset_png:
        asset_out.write_bytes(result.asset_png)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(_table(result))
    v = result.verdict
    sys.exit(0 if v in (Verdict.PASS, Verdict.WARN) else 1 if v is Verdict.FAIL else 2)


def _input_error(exc: IdsvcError, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"cannot evaluate: {exc.message} / {exc.message_en}", err=True)
    sys.exit(2)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        click.echo(f"cannot read {path}: {exc.strerror}", err=True)
        sys.exit(2)


def _seal_settings() -> SealSettings:
    """The seal template settings: the caller's services when given (tests), else ``IDSVC_SEAL_*``
    read once (a malformed value is a ClickException naming the variable; no database is opened)."""
    ctx = click.get_current_context(silent=True)
    given = ctx.find_object(Services) if ctx is not None else None
    if given is not None:
        return given.settings.seal
    try:
        return Settings.from_env().seal
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc


def register(cli: click.Group) -> None:
    """Add ``check signature``, ``check seal`` and ``sheet`` to the idsvc group."""

    @cli.group("check")
    def check() -> None:
        """Check a signature or seal scan against the association's specs."""

    @check.command("signature")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--dpi", type=float, default=None, help="Scan resolution, if the file does not say.")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @click.option(
        "--asset-out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the cleaned PNG here."
    )
    def check_signature_cmd(file: str, dpi: float | None, as_json: bool, asset_out: Path | None) -> None:
        """Check a handwritten signature scan/photo."""
        from .api import check_signature

        data = _read(file)
        try:
            result = check_signature(data, dpi=dpi)
        except IdsvcError as exc:
            _input_error(exc, as_json)
        _emit(result, as_json, asset_out)

    @check.command("seal")
    @click.argument("file", type=click.Path(dir_okay=False))
    @click.option("--dpi", type=float, default=None, help="Scan resolution, if the file does not say.")
    @click.option(
        "--shape",
        type=click.Choice(["round", "square", "oval"]),
        default=None,
        help="Template shape (default IDSVC_SEAL_SHAPE).",
    )
    @click.option("--size-mm", default=None, help="Template size W[xH] in mm (default IDSVC_SEAL_SIZE_MM).")
    @click.option("--text", default=None, help="The member's name, to compare with the seal text.")
    @click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
    @click.option(
        "--asset-out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write the cleaned PNG here."
    )
    def check_seal_cmd(
        file: str,
        dpi: float | None,
        shape: str | None,
        size_mm: str | None,
        text: str | None,
        as_json: bool,
        asset_out: Path | None,
    ) -> None:
        """Check a seal impression scan/photo against the seal template."""
        from .api import check_seal
        from .config import SealTemplate

        data = _read(file)
        try:
            template = SealTemplate.from_settings(_seal_settings()).with_overrides(shape, size_mm, text)
            result = check_seal(data, template, dpi=dpi)
        except IdsvcError as exc:
            _input_error(exc, as_json)
        _emit(result, as_json, asset_out)

    @cli.command("sheet")
    @click.option(
        "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="Where to write the PDF."
    )
    def sheet_cmd(out: Path) -> None:
        """Write the printable A4 calibration sheet (PDF)."""
        from .api import sheet_pdf

        out.write_bytes(sheet_pdf())
        click.echo(f"wrote {out}")
