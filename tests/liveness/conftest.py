"""Derived clips and reference encodings for the liveness tests, made once per session in a tmp dir.

Every clip is cut or synthesised from tests/data at test time
(PyAV/libx264, a few seconds in total).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from idsvc.liveness import enrol
from tests.factories import liveness_synth as synth


@pytest.fixture(scope="session")
def videos(data_dir: Path) -> Path:
    return data_dir / "videos"


@pytest.fixture(scope="session")
def faces_dir(data_dir: Path) -> Path:
    return data_dir / "faces"


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("liveness-clips")


def png_bytes(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture(scope="session")
def d13_blink(videos: Path, clip_dir: Path) -> Path:
    """3 s of liveportrait-d13 (720x1280) around its clear blink at 1.4 s; frontal, talking a little."""
    return synth.cut(videos / "liveportrait-d13.mp4", clip_dir / "d13-blink.mp4", 0.9, 3.0)


@pytest.fixture(scope="session")
def d13_reference(videos: Path) -> np.ndarray:
    """d13's "ID photo": a frame from outside the test window, enrolled like an uploaded photo."""
    frames, _ = synth.read_frames(videos / "liveportrait-d13.mp4", 6.0, 0.05)
    return enrol.encode_reference_photo(png_bytes(frames[0]))


@pytest.fixture(scope="session")
def other_reference(faces_dir: Path) -> np.ndarray:
    return enrol.encode_reference_photo((faces_dir / "joe-biden_2.jpg").read_bytes())
