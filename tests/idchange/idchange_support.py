"""Helpers of the ID-number change tests (imported by conftest.py and the test modules)."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import numpy as np

from idsvc.core.idnumber import check_char


def make_id(region: str, born: str, seq: str) -> str:
    """A valid 18-character number for the given region code, YYYYMMDD birth date and sequence."""
    first17 = region + born + seq
    return first17 + check_char(first17)


OLD = make_id("110101", "19900307", "851")  # 110101199003078515, the root conftest's default member number
NEW = make_id("110102", "19900307", "851")
OTHER = make_id("310104", "19850612", "123")


def face_encoding(seed: int = 7) -> bytes:
    """A stand-in 128-d face encoding: the workflow only moves it, never reads it."""
    return np.random.default_rng(seed).normal(size=128).astype(np.float64).tobytes()


def pdf_proof(text: str = "户籍证明：该公民身份证号码已变更") -> bytes:
    """A real one-page PDF in the shape of a police certificate (CJK text, via reportlab)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setFont("STSong-Light", 16)
    c.drawString(72, 760, "公安机关证明")
    c.setFont("STSong-Light", 11)
    c.drawString(72, 730, text)
    c.showPage()
    c.save()
    return buf.getvalue()


def png_bytes(width: int = 64, height: int = 48, seed: int = 0, compress_level: int = 6) -> bytes:
    from PIL import Image

    pixels = np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()


@dataclass
class Keys:
    platform: str
    local: str  # association "11" (Beijing), the default member's
    local_other: str  # association "31" (Shanghai)
    national: str


class Api:
    """The workflow's HTTP calls through the Flask test client."""

    def __init__(self, client: Any, keys: Keys, proof: bytes) -> None:
        self.client = client
        self.keys = keys
        self.proof = proof

    def file(
        self,
        member_id: str = "m-1001",
        new_id_number: str = NEW,
        *,
        proof: bytes | None = None,
        key: str | None = None,
        reason: str = "公安机关更正出生日期",
        filename: str = "proof.pdf",
        mimetype: str = "application/pdf",
    ) -> Any:
        data = {
            "member_id": member_id,
            "new_id_number": new_id_number,
            "reason": reason,
            "proof": (io.BytesIO(self.proof if proof is None else proof), filename, mimetype),
        }
        return self.client.post(
            "/v1/id-changes",
            data=data,
            content_type="multipart/form-data",
            headers={"Authorization": key or self.keys.platform},
        )

    def review(self, rid: str, decision: str, comment: str | None = None, key: str | None = None) -> Any:
        return self.client.post(
            f"/v1/id-changes/{rid}/review",
            json=_body(decision, comment),
            headers={"Authorization": key or self.keys.local},
        )

    def decide(self, rid: str, decision: str, comment: str | None = None, key: str | None = None) -> Any:
        return self.client.post(
            f"/v1/id-changes/{rid}/decision",
            json=_body(decision, comment),
            headers={"Authorization": key or self.keys.national},
        )

    def withdraw(self, rid: str, key: str | None = None, comment: str | None = None) -> Any:
        kwargs: dict[str, Any] = {"json": {"comment": comment}} if comment else {}
        return self.client.post(
            f"/v1/id-changes/{rid}/withdraw", headers={"Authorization": key or self.keys.platform}, **kwargs
        )

    def get(self, path: str, key: str | None = None, **params: Any) -> Any:
        return self.client.get(path, query_string=params, headers={"Authorization": key or self.keys.platform})

    def filed(self, member_id: str = "m-1001", new_id_number: str = NEW, **kwargs: Any) -> str:
        response = self.file(member_id, new_id_number, **kwargs)
        assert response.status_code == 201, response.get_json()
        return str(response.get_json()["request_id"])

    def forwarded(self, member_id: str = "m-1001", new_id_number: str = NEW) -> str:
        rid = self.filed(member_id, new_id_number)
        assert self.review(rid, "forward").status_code == 200
        return rid


def _body(decision: str, comment: str | None) -> dict[str, Any]:
    return {"decision": decision, **({"comment": comment} if comment is not None else {})}


def error_code(response: Any) -> str:
    return str(response.get_json()["error"]["code"])


def cli_env(settings: Any) -> dict[str, str]:
    """Environment that points the ``idsvc`` command at the same database, Redis and blobs as ``settings``."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("IDSVC_")}
    env.update(
        IDSVC_ENV="test",
        IDSVC_DATABASE_URL=settings.database_url,
        IDSVC_REDIS_URL=settings.redis_url,
        IDSVC_REDIS_PREFIX=settings.redis_prefix,
        IDSVC_SECRET_KEY=str(settings.secret_key),
        IDSVC_BLOB_DIR=str(settings.blob_dir),
        IDSVC_LOG_LEVEL="WARNING",
    )
    return env


def run_cli(env: dict[str, str], *args: str, timeout: float = 60) -> Any:
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).with_name("idsvc")
    return subprocess.run([str(exe), *args], check=False, env=env, capture_output=True, text=True, timeout=timeout)
