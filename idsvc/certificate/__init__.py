"""idsvc.certificate: member status, the certificate portrait, and the member's electronic
certificate (gated, rendered to PDF/PNG, verifiable by anyone through a signed QR).  See
docs/certificate.md."""
