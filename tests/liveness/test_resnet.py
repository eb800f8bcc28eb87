"""The numpy run of dlib's face ResNet gives dlib's own descriptors, so every threshold carries over."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from idsvc.liveness import resnet
from idsvc.liveness.faces import engine


def _dlib_encoder():  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import dlib
        import face_recognition_models as frm
    return dlib.face_recognition_model_v1(frm.face_recognition_model_location())


def test_numpy_resnet_gives_dlibs_descriptors(faces_dir: Path, d13_blink: Path) -> None:
    """Twelve photos of different people plus three video frames: the same 128 numbers as dlib's
    compute_face_descriptor (5-point alignment, 150 px chip, no jitter) to well under 1e-5, where
    the match threshold is 0.50 and figures are reported to 1e-4."""
    from idsvc.liveness.config import LivenessConfig
    from idsvc.liveness.video import iter_frames, probe

    eng = engine()
    dlib_net = _dlib_encoder()
    photos = sorted(p for p in faces_dir.iterdir() if p.suffix in (".jpg", ".png"))[::7][:12]
    images = [np.asarray(Image.open(p).convert("RGB")) for p in photos]
    cfg = LivenessConfig()
    images += [f.rgb() for i, f in enumerate(iter_frames(d13_blink, probe(d13_blink, cfg), cfg)) if i in (5, 45, 85)]
    compared = 0
    ours_all, theirs_all = [], []
    for rgb in images:
        found = eng.detect(rgb, 1)
        if not found:
            continue
        box = found[0]
        ours = eng.encode(rgb, box)
        shape = eng._pose5(rgb, eng._rect(box))
        theirs = np.array(dlib_net.compute_face_descriptor(rgb, shape, 1))
        assert ours.shape == (128,) and ours.dtype == np.float64
        assert np.linalg.norm(ours - theirs) < 1e-5, np.abs(ours - theirs).max()
        ours_all.append(ours)
        theirs_all.append(theirs)
        compared += 1
    assert compared >= 12
    # ... and so the distances between faces, which the decisions use.
    ours_d = [np.linalg.norm(a - b) for a in ours_all for b in ours_all]
    theirs_d = [np.linalg.norm(a - b) for a in theirs_all for b in theirs_all]
    assert max(ours_d) > 0.5  # different people really were compared
    assert np.allclose(ours_d, theirs_d, atol=1e-5)


def test_the_net_checks_its_input() -> None:
    net = engine()._net
    with pytest.raises(ValueError, match="chips"):
        net(np.zeros((1, 100, 100, 3), np.uint8))
    assert net(np.zeros((2, 150, 150, 3), np.uint8)).shape == (2, 128)


def test_a_file_that_is_not_the_face_resnet_is_refused(tmp_path: Path) -> None:
    import face_recognition_models as frm

    whole = Path(frm.face_recognition_model_location()).read_bytes()
    for name, data in {
        "truncated": whole[: len(whole) // 2],
        "empty": b"",
        "landmarks model": Path(frm.pose_predictor_five_point_model_location()).read_bytes(),
    }.items():
        path = tmp_path / f"{name}.dat"
        path.write_bytes(data)
        with pytest.raises(resnet.ModelFormatError):
            resnet.FaceNet.load(path)
