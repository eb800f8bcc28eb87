"""The certificate service: gate, issue and render; the collaborators come from the constructor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from idsvc.core.blobs import BlobStore
from idsvc.core.clock import Clock
from idsvc.core.db import Database
from idsvc.core.logs import mask_id_number
from idsvc.core.settings import Settings
from idsvc.documents.models import DocumentFiling

from . import issue as issuing
from . import render
from .models import CATEGORY_ZH
from .signing import Signer

# A signature filed from a photo without a known scale has no trustworthy size: it is printed
# fitted into this box (a handwritten signature on a form line is about this size).
SIGNATURE_BOX_MM = (45.0, 16.0)


@dataclass(frozen=True)
class Rendered:
    data: bytes
    mimetype: str
    issued: issuing.Issued


class CertificateService:
    def __init__(self, settings: Settings, db: Database, blobs: BlobStore, clock: Clock) -> None:
        self.settings = settings
        self.db = db
        self.blobs = blobs
        self.clock = clock
        self.signer = Signer.from_settings(settings)

    def verify_url(self, token: str) -> str:
        return f"{self.settings.public_url}/c/{token}"

    def issue(self, member_id: str, *, actor: str) -> issuing.Issued:
        with self.db.session() as session:
            return issuing.issue(
                session, self.signer, self.settings.association_name, member_id, actor=actor, now=self.clock()
            )

    def content(self, issued: issuing.Issued) -> render.CertificateContent:
        member, status, assets, cert = issued.member, issued.status, issued.assets, issued.certificate
        gender, birth = render.person_from_id_number(member.id_number)
        seal_png = self.blobs.get(assets.seal.cleaned_sha256)
        sig_png = self.blobs.get(assets.signature.cleaned_sha256)
        return render.CertificateContent(
            association=self.settings.association_name,
            name=member.name,
            gender=gender,
            birth_date=birth,
            id_number_masked=mask_id_number(member.id_number),
            member_no=cert.member_no,
            firm=status.firm or "—",
            category=CATEGORY_ZH.get(status.category, status.category),
            cert_no=cert.cert_no,
            issued_at=cert.issued_at,
            portrait_jpeg=self.blobs.get(assets.portrait.cleaned_sha256),
            seal_png=seal_png,
            seal_mm=seal_size_mm(assets.seal, seal_png),
            signature_png=sig_png,
            signature_mm=signature_size_mm(assets.signature, sig_png),
            verify_url=self.verify_url(issued.token),
        )

    def render(self, member_id: str, fmt: str, *, actor: str) -> Rendered:
        issued = self.issue(member_id, actor=actor)
        lay = render.layout(self.content(issued))
        if fmt == "pdf":
            return Rendered(render.to_pdf(lay), "application/pdf", issued)
        return Rendered(render.to_png(lay), "image/png", issued)


def seal_size_mm(row: DocumentFiling, png: bytes) -> tuple[float, float]:
    """The seal's real size: the measured one when the scan's scale was known (the cleaned PNG is
    then true to scale at its DPI), else the configured template's size."""
    meas: dict[str, Any] = (row.result or {}).get("measurements", {})
    if row.dpi_source != "unknown" and meas.get("long_mm"):
        return render.printed_size_mm(png)
    template = meas.get("template") or {}
    w, h = template.get("width_mm"), template.get("height_mm")
    if w and h:
        return render.printed_size_mm(png, fallback_mm=(float(w), float(h)))
    return render.printed_size_mm(png)


def signature_size_mm(row: DocumentFiling, png: bytes) -> tuple[float, float]:
    if row.dpi_source != "unknown":
        return render.printed_size_mm(png)
    return render.printed_size_mm(png, box_mm=SIGNATURE_BOX_MM)
