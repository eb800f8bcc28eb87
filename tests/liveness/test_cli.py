"""``idsvc idrecord add`` and ``idsvc verify-video`` (exit 0 passed, 1 rejected, 2 bad input)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import idsvc.cli
from idsvc.core.db import IdRecord
from tests.factories import liveness_synth as synth

from .conftest import png_bytes

pytestmark = [pytest.mark.integration, pytest.mark.model, pytest.mark.slow]

ID_NUMBER = "110101199003078515"


@pytest.fixture
def run(services: Any):
    runner = CliRunner()
    return lambda *args: runner.invoke(idsvc.cli.cli, list(args), obj=services)  # the test's services


@pytest.fixture
def d13_photo(tmp_path: Path, videos: Path) -> Path:
    frames, _ = synth.read_frames(videos / "liveportrait-d13.mp4", 6.0, 0.05)
    p = tmp_path / "d13.png"
    p.write_bytes(png_bytes(frames[0]))
    return p


def test_add_then_verify(run: Any, services: Any, d13_photo: Path, d13_blink: Path, tmp_path: Path) -> None:
    r = run("idrecord", "add", "--id-number", ID_NUMBER, "--name", "张三", str(d13_photo))
    assert r.exit_code == 0, r.output
    assert json.loads(r.output) | {"created_at": None} == {
        "id_number": "110101********8515",
        "name": "张三",
        "source": "cli",
        "created_at": None,
    }
    with services.db.session() as db:
        assert db.get(IdRecord, ID_NUMBER) is not None

    r = run("verify-video", "--id-number", ID_NUMBER, "--challenge", "blink", str(d13_blink))
    assert r.exit_code == 0 and json.loads(r.output)["passed"] is True

    r = run("verify-video", "--id-number", ID_NUMBER, "--challenge", "nod", str(d13_blink))
    assert r.exit_code == 1 and json.loads(r.output)["reason"] == "challenge_not_performed"

    bad = tmp_path / "x.mp4"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    r = run("verify-video", "--id-number", ID_NUMBER, "--challenge", "blink", str(bad))
    assert r.exit_code == 2 and json.loads(r.output)["reason"] == "video_invalid"


def test_verify_without_record(run: Any, d13_blink: Path) -> None:
    r = run("verify-video", "--id-number", ID_NUMBER, "--challenge", "blink", str(d13_blink))
    assert r.exit_code == 1 and json.loads(r.output)["reason"] == "id_record_not_found"


def test_usage_errors_exit_2(run: Any, d13_blink: Path, faces_dir: Path) -> None:
    assert run("verify-video", "--id-number", ID_NUMBER, "--challenge", "smile", str(d13_blink)).exit_code == 2
    assert run("verify-video", "--id-number", ID_NUMBER, "--challenge", "blink", "/nonexistent.mp4").exit_code == 2
    r = run("idrecord", "add", "--id-number", ID_NUMBER, "--name", "x", str(faces_dir / "noface" / "dogs.jpg"))
    assert r.exit_code == 2 and "no_face" in r.output
    r = run("idrecord", "add", "--id-number", "123", "--name", "x", str(faces_dir / "noface" / "dogs.jpg"))
    assert r.exit_code == 2 and "invalid_id_number" in r.output
