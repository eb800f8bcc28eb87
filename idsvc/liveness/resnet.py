"""dlib's face-recognition ResNet (``dlib_face_recognition_resnet_model_v1.dat``) run with numpy.

Why: the prebuilt dlib wheel has no BLAS, so its own convolution code spent ~85 ms of CPU per face
(~250 ms for a verification's three encodings, a quarter of the analysis).  The same network as
im2col + one matrix product per convolution through numpy's OpenBLAS costs ~9 ms per face on one
core, and gives the same 128 numbers as dlib to ~1e-6 (``tests/liveness/test_resnet.py`` compares
the two on real photos), so every threshold and evaluation figure carries over unchanged.

The weights are read straight from dlib's serialised network: every tensor there is a version int
(2), four dimension ints and raw little-endian float32s.  Only the layers with parameters are read
(29 ``con_4``, 29 ``affine_``, one ``fc_2``, in forward order); the rest of the graph is the fixed
architecture of dlib's ``dnn_face_recognition_ex.cpp``, written out in :meth:`FaceNet.__call__`:

    input 150x150 RGB, (pixel - channel mean) / 256
    con 7x7/2 32 -> affine -> relu -> max_pool 3x3/2
    3 x res(32), res_down(64) + 3 x res(64), res_down(128) + 2 x res(128),
    res_down(256) + 2 x res(256), res_down(256)
    avg_pool_everything -> fc_no_bias 256 -> 128

where a residual block is ``relu(x + affine(con3x3(relu(affine(con3x3(x))))))`` and a down block
strides its first convolution by 2 and adds ``avg_pool 2x2/2`` of its input.  dlib adds tensors of
different shapes by zero-padding both to the larger (``add_prev_``), which happens twice here:
channels (32 + 64) and, in the 256-channel down block, a 3x3 block output added to a 4x4 pool.

Each ``affine_`` (a frozen batch norm) is folded into the convolution before it when loading.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

CHIP_SIZE = 150  # the network's input: dlib's face chip, 150x150 RGB, padding 0.25
CHANNEL_MEAN = np.array([122.782, 117.001, 104.298], dtype=np.float32)  # input_rgb_image_sized's R, G, B
# (channels, down) of the 14 residual blocks, in order
BLOCKS = (
    [(32, False)] * 3
    + [(64, True)]
    + [(64, False)] * 3
    + [(128, True)]
    + [(128, False)] * 2
    + [(256, True)]
    + [(256, False)] * 2
    + [(256, True)]
)


class ModelFormatError(ValueError):
    """The file is not the dlib face ResNet this module knows."""


def _int(data: bytes, i: int) -> tuple[int, int]:
    """dlib's integer: a control byte (low nibble = byte count, bit 7 = negative), then LE bytes."""
    control = data[i]
    n = control & 0x0F
    value = int.from_bytes(data[i + 1 : i + 1 + n], "little")
    return (-value if control & 0x80 else value), i + 1 + n


def _tensor(data: bytes, i: int) -> tuple[np.ndarray, int]:
    version, i = _int(data, i)
    if version != 2:
        raise ModelFormatError(f"tensor version {version}")
    size = 1
    for _ in range(4):
        dim, i = _int(data, i)
        size *= dim
    if i + 4 * size > len(data):
        raise ModelFormatError("tensor runs past the end of the file")
    return np.frombuffer(data, dtype="<f4", count=size, offset=i), i + 4 * size


_LAYER = re.compile(rb"\x01(\x05con_4|\x07affine_|\x04fc_2)")


Conv = tuple[np.ndarray, np.ndarray, int, int, int]  # (weights (k*k*C, F), bias (F,), k, stride, padding)


def _read_layers(data: bytes) -> tuple[list[Conv], np.ndarray]:
    convs: list[Conv] = []
    pending: tuple[np.ndarray, np.ndarray, int, int] | None = None  # a con_ waiting for its affine_
    fc: np.ndarray | None = None
    pos = 0
    while (m := _LAYER.search(data, pos)) is not None:
        name, i = m.group(1)[1:], m.end()
        if name == b"con_4":
            params, i = _tensor(data, i)
            fields = []
            for _ in range(7):  # num_filters, nr, nc, stride_y, stride_x, padding_y, padding_x
                v, i = _int(data, i)
                fields.append(v)
            n_filters, nr, nc, stride, _, pad, _ = fields
            k_in = (params.size - n_filters) // (n_filters * nr * nc)
            if nr != nc or k_in * n_filters * nr * nc + n_filters != params.size:
                raise ModelFormatError(f"con_ of {params.size} parameters")
            w = params[: n_filters * k_in * nr * nc].reshape(n_filters, k_in, nr, nc)
            pending = (w, params[n_filters * k_in * nr * nc :], stride, pad)
        elif name == b"affine_":
            params, i = _tensor(data, i)
            if pending is None or params.size != 2 * pending[0].shape[0]:
                raise ModelFormatError("affine_ without its con_")
            w, b, stride, pad = pending
            gamma, beta = params[: params.size // 2], params[params.size // 2 :]
            folded = (w * gamma[:, None, None, None]).astype(np.float32)
            n_filters, k_in, k, _ = folded.shape
            # Columns in (ky, kx, channel) order, matching the windows conv() cuts from HWC data.
            weights = np.ascontiguousarray(folded.transpose(2, 3, 1, 0).reshape(k * k * k_in, n_filters))
            convs.append((weights, (b * gamma + beta).astype(np.float32), k, stride, pad))
            pending = None
        else:
            n_out, i = _int(data, i)
            n_in, i = _int(data, i)
            params, i = _tensor(data, i)
            if params.size != n_in * n_out:
                raise ModelFormatError("fc_ shape")
            fc = params.reshape(n_in, n_out).astype(np.float32)
        pos = i
    if fc is None or len(convs) != 1 + 2 * len(BLOCKS):
        raise ModelFormatError(f"{len(convs)} convolutions, fc {'found' if fc is not None else 'missing'}")
    return convs, fc


def _conv(x: np.ndarray, layer: Conv) -> np.ndarray:
    """Convolution of (N, H, W, C) float32: im2col as a strided view, then one matrix product."""
    weights, bias, k, stride, pad = layer
    if pad:
        x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, w, c = x.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    sn, sh, sw, sc = x.strides
    windows = np.lib.stride_tricks.as_strided(
        x, (n, ho, wo, k, k, c), (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False
    )
    out = windows.reshape(n * ho * wo, k * k * c) @ weights
    out += bias
    return out.reshape(n, ho, wo, -1)


def _max_pool(x: np.ndarray, k: int, stride: int) -> np.ndarray:
    n, h, w, c = x.shape
    ho, wo = (h - k) // stride + 1, (w - k) // stride + 1
    sn, sh, sw, sc = x.strides
    windows = np.lib.stride_tricks.as_strided(
        x, (n, ho, wo, k, k, c), (sn, sh * stride, sw * stride, sh, sw, sc), writeable=False
    )
    return np.asarray(windows.max(axis=(3, 4)))


def _avg_pool_2x2(x: np.ndarray) -> np.ndarray:
    n, h, w, c = x.shape
    ho, wo = h // 2, w // 2  # (h - 2) // 2 + 1
    return np.asarray(x[:, : 2 * ho, : 2 * wo].reshape(n, ho, 2, wo, 2, c).mean(axis=(2, 4), dtype=np.float32))


def _add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """dlib's add_prev_: both zero-padded to the larger size in every dimension."""
    if a.shape == b.shape:
        return np.asarray(a + b)
    shape = tuple(max(p, q) for p, q in zip(a.shape, b.shape))
    out = np.zeros(shape, dtype=np.float32)
    out[:, : a.shape[1], : a.shape[2], : a.shape[3]] += a
    out[:, : b.shape[1], : b.shape[2], : b.shape[3]] += b
    return out


class FaceNet:
    """The network with its weights loaded; call it on (N, 150, 150, 3) uint8 RGB chips."""

    def __init__(self, convs: list[Conv], fc: np.ndarray) -> None:
        self._convs = convs
        self._fc = fc

    @classmethod
    def load(cls, path: str | Path) -> FaceNet:
        return cls(*_read_layers(Path(path).read_bytes()))

    def __call__(self, chips: np.ndarray) -> np.ndarray:
        """(N, 128) float64 descriptors of (N, 150, 150, 3) RGB chips."""
        if chips.ndim != 4 or chips.shape[1:] != (CHIP_SIZE, CHIP_SIZE, 3):
            raise ValueError(f"expected (N, {CHIP_SIZE}, {CHIP_SIZE}, 3) chips, got {chips.shape}")
        x = (chips.astype(np.float32) - CHANNEL_MEAN) / np.float32(256.0)
        layers = iter(self._convs)
        x = _max_pool(np.maximum(_conv(x, next(layers)), 0), 3, 2)
        for _channels, down in BLOCKS:
            y = np.maximum(_conv(x, next(layers)), 0)
            y = _conv(y, next(layers))
            x = np.maximum(_add(y, _avg_pool_2x2(x) if down else x), 0)
        pooled = x.mean(axis=(1, 2), dtype=np.float32)
        return np.asarray(pooled @ self._fc, dtype=np.float64)
