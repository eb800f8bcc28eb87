"""CLI commands of idsvc.certificate.

    idsvc member set --member-id ID [--member-no N] [--firm F] [--category C] [--standing S]
    idsvc check portrait FILE --member-id ID [--json] [--cleaned-out FILE]
    idsvc certificate render --member-id ID --out FILE.pdf|FILE.png
    idsvc certificate keys                      the public key set (JWK), as served at /v1/certificates/keys
    idsvc certificate verify TOKEN|URL [--jwks FILE]

``member set`` joins the core's ``member`` group and ``check portrait`` the documents feature's
``check`` group when they exist (else they are ``certificate member-set`` / ``certificate
check-portrait``).  ``check portrait`` exits 0 on pass/warn, 1 on fail, 2 when the file is
unreadable.  ``verify`` needs no database or network with ``--jwks``: exit 0 and the signed
statement when the signature verifies, 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from idsvc.clikit import services
from idsvc.core.errors import IdsvcError
from idsvc.documents import Verdict

from . import members, portraits
from .models import CATEGORIES, STANDINGS
from .service import CertificateService
from .signing import InvalidToken, Signer, token_from, verify

_MARK = {"pass": "✔", "warn": "!", "fail": "✘", "unable": "?"}


def _fail(exc: IdsvcError) -> None:
    click.echo(f"Error: {exc.code}: {exc.message_en}", err=True)
    sys.exit(1 if exc.status < 500 else 2)


@click.command("set")
@click.option("--member-id", required=True)
@click.option("--member-no", default=None, help="会员编号")
@click.option("--firm", default=None, help="执业机构")
@click.option("--category", type=click.Choice(CATEGORIES), default=None)
@click.option("--standing", type=click.Choice(STANDINGS), default=None)
def member_set(
    member_id: str, member_no: str | None, firm: str | None, category: str | None, standing: str | None
) -> None:
    """Set a member's number, firm, category or standing (audited with old and new values).

    Apply a transfer or qualification change only once it is approved: until then the certificate
    keeps showing the current values.
    """
    raw = {
        k: v
        for k, v in {"member_no": member_no, "firm": firm, "category": category, "standing": standing}.items()
        if v is not None
    }
    try:
        changes = members.clean_changes(raw)
        with services().db.session() as session:
            status, diff = members.set_status(session, member_id, changes, actor="cli")
    except IdsvcError as exc:
        _fail(exc)
        return
    click.echo(json.dumps({"member_id": member_id, **status.to_dict(), "changes": diff}, ensure_ascii=False))


@click.command("portrait")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--member-id", required=True, help="Compare with this member's ID-record face.")
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--cleaned-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the certificate crop (JPEG).",
)
def check_portrait_cmd(file: str, member_id: str, as_json: bool, cleaned_out: Path | None) -> None:
    """Check a portrait photo for the certificate (exit 0 pass/warn, 1 fail, 2 unreadable)."""
    try:
        data = Path(file).read_bytes()
    except OSError as exc:
        click.echo(f"Error: cannot read {file}: {exc.strerror}", err=True)
        sys.exit(2)
    try:
        with services().db.session() as session:
            result, cleaned, _ = portraits.check_for_member(session, member_id, data)
    except IdsvcError as exc:
        click.echo(f"Error: {exc.code}: {exc.message_en}", err=True)
        sys.exit(2)
    if cleaned_out is not None and cleaned is not None:
        cleaned_out.write_bytes(cleaned)
    d = result.to_dict()
    if as_json:
        click.echo(json.dumps(d, ensure_ascii=False, indent=2))
    else:
        click.echo(f"portrait: {d['verdict'].upper()}")
        for c in d["checks"]:
            val = "–" if c["value"] is None else f"{c['value']} {c['unit']}"
            click.echo(
                f"  {_MARK[c['verdict']]} {c['id']:<17} {c['verdict']:<6} {val:<28} {c['message']} / {c['message_en']}"
            )
    sys.exit(0 if result.verdict in (Verdict.PASS, Verdict.WARN) else 1 if result.verdict is Verdict.FAIL else 2)


@click.group("certificate")
def certificate_group() -> None:
    """Member certificates: render, publish the key, verify a token offline."""


@certificate_group.command("render")
@click.option("--member-id", required=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="FILE.pdf or FILE.png")
def render_cmd(member_id: str, out: Path) -> None:
    """Issue (or reuse) and render the member's certificate."""
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "png"):
        raise click.BadParameter("must end in .pdf or .png", param_hint="--out")
    svc = services()
    cs = CertificateService(svc.settings, svc.db, svc.blobs, svc.clock)
    try:
        rendered = cs.render(member_id, fmt, actor="cli")
    except IdsvcError as exc:
        _fail(exc)
        return
    out.write_bytes(rendered.data)
    cert = rendered.issued.certificate
    click.echo(
        json.dumps(
            {"certificate_no": cert.cert_no, "verify_url": cs.verify_url(rendered.issued.token)}, ensure_ascii=False
        )
    )


@certificate_group.command("keys")
def keys_cmd() -> None:
    """Print the public key set (JWK) that verifies this deployment's certificates."""
    click.echo(json.dumps({"keys": [Signer.from_settings(services().settings).jwk()]}, indent=2))


@certificate_group.command("verify")
@click.argument("token")
@click.option(
    "--jwks",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="A saved copy of GET /v1/certificates/keys (offline); default: this deployment's own key.",
)
def verify_cmd(token: str, jwks: Path | None) -> None:
    """Verify a certificate token (or its URL) offline: exit 0 and print the signed statement, or 1.

    This proves who the association certified and when; whether the certificate is still valid
    *now* (the member's current standing) is what the verification page says.
    """
    try:
        if jwks is not None:
            keyset = json.loads(jwks.read_text(encoding="utf-8"))
            keys = keyset.get("keys", [keyset]) if isinstance(keyset, dict) else []
        else:
            keys = [Signer.from_settings(services().settings).jwk()]
        statement = verify(token_from(token), keys)
    except (InvalidToken, ValueError) as exc:
        click.echo(json.dumps({"valid_signature": False, "problem": str(exc)}, ensure_ascii=False))
        sys.exit(1)
    click.echo(json.dumps({"valid_signature": True, **statement.to_dict()}, ensure_ascii=False))


def register(cli: click.Group) -> None:
    member = cli.commands.get("member")
    if isinstance(member, click.Group):
        member.add_command(member_set)
    else:
        certificate_group.add_command(member_set, "member-set")
    check = cli.commands.get("check")
    if isinstance(check, click.Group):
        check.add_command(check_portrait_cmd)
    else:
        certificate_group.add_command(check_portrait_cmd, "check-portrait")
    cli.add_command(certificate_group)
