"""Every QR we render reads back with OpenCV's ordinary detector, whatever the session id."""

from __future__ import annotations

import secrets

import cv2
import numpy as np

from idsvc.qr import render
from idsvc.qr.tokens import make_scan_token, read_scan_token


def test_every_scan_url_qr_decodes_with_opencv() -> None:
    failures = []
    for _ in range(150):
        url = f"https://idsvc.example.org.cn/m/{make_scan_token('s' * 32, secrets.token_urlsafe(16))}"
        img = cv2.imdecode(np.frombuffer(render.png(url), np.uint8), cv2.IMREAD_GRAYSCALE)
        text, _points, _ = cv2.QRCodeDetector().detectAndDecode(img)
        if text != url:
            failures.append(url)
    assert not failures


def test_svg_uses_the_same_matrix_as_png() -> None:
    url = "http://127.0.0.1:8000/m/" + make_scan_token("k" * 32, "abcdefgh12345678")
    assert b"<svg" in render.svg(url)
    assert render.readable_mask(url) == render.readable_mask(url)


def test_scan_token_round_trip_and_tampering() -> None:
    token = make_scan_token("k" * 32, "SSVDpYZcCY-ENPNIO3IEPA")
    assert read_scan_token("k" * 32, token) == "SSVDpYZcCY-ENPNIO3IEPA"
    for bad in (
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        "SSVDpYZcCY-ENPNIO3IEPA",
        "",
        "x.y",
        token.replace("S", "T", 1),
    ):
        try:
            read_scan_token("k" * 32, bad)
        except Exception as exc:
            assert getattr(exc, "status", None) == 400
        else:
            raise AssertionError(f"accepted {bad!r}")
    other_key = make_scan_token("z" * 32, "SSVDpYZcCY-ENPNIO3IEPA")
    try:
        read_scan_token("k" * 32, other_key)
    except Exception as exc:
        assert exc.status == 400
    else:
        raise AssertionError("accepted a token signed with another key")
