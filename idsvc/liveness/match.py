"""Face encodings: storage format and the identity decision over several frames."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ENCODING_DIM = 128
_DTYPE = np.dtype("<f8")  # 128 float64 little-endian = 1024 bytes, the IdRecord.encoding format


def encoding_to_bytes(arr: np.ndarray) -> bytes:
    a = np.asarray(arr, dtype=np.float64)
    if a.shape != (ENCODING_DIM,) or not np.all(np.isfinite(a)):
        raise ValueError(f"expected a finite ({ENCODING_DIM},) encoding, got {a.shape}")
    return a.astype(_DTYPE).tobytes()


def encoding_from_bytes(data: bytes) -> np.ndarray:
    if len(data) != ENCODING_DIM * _DTYPE.itemsize:
        raise ValueError(f"expected {ENCODING_DIM * _DTYPE.itemsize} bytes, got {len(data)}")
    return np.frombuffer(data, dtype=_DTYPE).astype(np.float64)


@dataclass(frozen=True)
class MatchResult:
    distances: tuple[float, ...]  # each encoded video frame to the reference
    distance: float  # their median: never decide on one frame
    threshold: float
    matched: bool


def match(encodings: Sequence[np.ndarray], reference: np.ndarray, threshold: float) -> MatchResult:
    if not encodings:
        raise ValueError("no encodings to match")
    ref = np.asarray(reference, dtype=np.float64)
    d = tuple(float(np.linalg.norm(np.asarray(e) - ref)) for e in encodings)
    med = float(np.median(d))
    return MatchResult(d, med, threshold, med <= threshold)


def max_pairwise_distance(encodings: Sequence[np.ndarray]) -> float:
    """Largest distance between any two encodings of the clip (0 for fewer than two)."""
    worst = 0.0
    for i in range(len(encodings)):
        for j in range(i + 1, len(encodings)):
            worst = max(worst, float(np.linalg.norm(np.asarray(encodings[i]) - np.asarray(encodings[j]))))
    return worst
