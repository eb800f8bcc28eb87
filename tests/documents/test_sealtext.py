"""Seal text OCR (issue #15): synthetic seals rendered with real CJK fonts (fonts-wqy-zenhei, fonts-noto-cjk)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from idsvc.cli import cli
from idsvc.documents import SealTemplate, check_seal
from idsvc.documents.sealtext import model_dir
from tests.factories.documents_seals import text_seal
from tests.factories.documents_synth import to_png


def _text(name_on_seal: str, expected: str, layout: str = "grid", **kw) -> dict:
    r = check_seal(to_png(text_seal(name_on_seal, layout, **kw), 300), SealTemplate(text=expected))
    c = r.check("text")
    assert c is not None
    return c.to_dict()


def test_models_ship_inside_the_wheel() -> None:
    assert (model_dir() / "ch_PP-OCRv4_rec_infer.onnx").stat().st_size > 5_000_000


@pytest.mark.parametrize(
    ("name", "layout", "angle"),
    [("任华敏", "grid", -3.0), ("黄力云", "grid", 0.0), ("唐强", "cols3", 0.0), ("黄健", "row", 0.0)],
)
def test_right_name_passes(name: str, layout: str, angle: float) -> None:
    c = _text(name, name, layout, angle=angle)
    assert c["verdict"] == "pass", c
    assert c["details"]["read"] and c["details"]["layout"]


@pytest.mark.parametrize(("on_seal", "expected"), [("任华敏", "沈世广"), ("唐强", "卢鹏丽"), ("黄力云", "韩平")])
def test_another_name_fails(on_seal: str, expected: str) -> None:
    layout = "cols3" if len(on_seal) == 2 else "grid"
    c = _text(on_seal, expected, layout)
    assert c["verdict"] == "fail", c


@pytest.mark.parametrize("defect", ["blur", "half"])
@pytest.mark.parametrize("name", ["任华敏", "唐强", "黄力云"])
def test_blurred_or_half_stamped_is_never_a_pass(name: str, defect: str) -> None:
    layout = "cols3" if len(name) == 2 else "grid"
    kw = {"blur_px": 9.0} if defect == "blur" else {"half": True}
    c = _text(name, name, layout, **kw)
    assert c["verdict"] in ("warn", "unable"), c
    other = _text(name, "沈世广", layout, **kw)
    assert other["verdict"] != "pass", other


def test_font_hint_is_information_only() -> None:
    c = _text("任华敏", "任华敏", "grid", font="song")
    assert c["verdict"] == "pass" and c["details"]["font_hint"].startswith("print")


def test_cli_text_option_reports_what_was_read(tmp_path: Path) -> None:
    f = tmp_path / "seal.png"
    f.write_bytes(to_png(text_seal("张三", "cols3"), 300))
    r = CliRunner().invoke(cli, ["check", "seal", str(f), "--text", "张三印", "--json"])
    text = next(c for c in json.loads(r.output)["checks"] if c["id"] == "text")
    assert text["verdict"] == "pass" and text["value"] == "张三印", text
    r = CliRunner().invoke(cli, ["check", "seal", str(f), "--text", "李四"])
    assert r.exit_code == 1 and "李四" in r.output


@pytest.mark.integration
def test_http_check_and_filing_use_the_name(client, platform_key: str, make_member) -> None:
    data = to_png(text_seal("任华敏", "grid"), 300)

    def post(url: str, **form):
        return client.post(
            url,
            data={"image": (io.BytesIO(data), "s.png"), **form},
            headers={"Authorization": platform_key},
            content_type="multipart/form-data",
        )

    body = post("/v1/documents/seal/check", text="任华敏").get_json()
    text = next(c for c in body["checks"] if c["id"] == "text")
    assert text["verdict"] == "pass" and text["details"]["read"] == "任华敏印"
    make_member("m-1", name="任华敏")
    make_member("m-2", name="沈世广", id_number="11010519491231002X")
    assert post("/v1/members/m-1/seal").status_code == 201
    wrong = post("/v1/members/m-2/seal")
    assert wrong.status_code == 422 and "text" in wrong.get_json()["error"]["details"]["failed"]
    assert post("/v1/documents/seal/check", text="名" * 13).status_code == 400
