#!/usr/bin/env python
"""``make eval``: face matching and liveness on the real data in tests/data.

Prints:

1. Face matching over every genuine and impostor photo pair of ``faces/labels.csv`` (single-person
   photos; pairs inside one ``same_photo_group`` dropped): FAR/FRR at the configured threshold and
   the threshold at FAR = 0.  Also the enrolment checks' verdict on every labelled photo.
2. Liveness (ISO/IEC 30107-3 terms) on 3-s windows cut from the videos at the times in WINDOWS:
   BPCER = bona fide presentations rejected; APCER per attack kind = attacks accepted:
   * ``photo``            a still photo made into a 3-s hand-held video (tilt, jitter, light, noise);
   * ``wrong_person``     a genuine window of X presented with Y's reference;
   * ``wrong_challenge``  a genuine window presented for a challenge it does not show;
   * ``splice``           1.5 s of X then 1.5 s of Y performing the action (and Y then X), for X.
3. Sequence challenges (issue #11): replay APCER per session against drawn sequences; bona fide
   sequences in 3-s windows whose start is searched so that a member reacting r s after each
   prompt could have recorded them (every labelled pair of actions, each reaction time); the
   prompt-tolerance table; the light check with synthetic reflections.

Derived clips and photo encodings are cached in ``$IDSVC_EVAL_CACHE`` (default: a folder in the
system temp dir); delete it to regenerate.  ``--verbose`` prints every presentation.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import itertools
import math
import os
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from idsvc.liveness import enrol  # noqa: E402
from idsvc.liveness.challenges import CHALLENGES  # noqa: E402
from idsvc.liveness.config import LivenessConfig  # noqa: E402
from idsvc.liveness.faces import engine  # noqa: E402
from idsvc.liveness.pipeline import Inspection, decide, inspect  # noqa: E402
from tests.factories import liveness_synth as synth  # noqa: E402

ALL = tuple(CHALLENGES)


DATA = REPO / "tests" / "data"


def shared_dir() -> Path:
    """The evaluation media: tests/data in this repository (faces, videos, documents, SOURCES.md)."""
    return Path(os.environ.get("IDSVC_DATA_DIR") or DATA)


def cache_dir() -> Path:
    d = Path(os.environ.get("IDSVC_EVAL_CACHE") or Path(tempfile.gettempdir()) / "idsvc-eval-cache")
    d.mkdir(parents=True, exist_ok=True)
    return d


# --------------------------------------------------------------------------------------------
# Ground truth for the liveness windows (labelled by eye on frame strips, see docs/liveness.md).
# shows: challenge -> time (s, in the source video) of the clearest instance.
# ambiguous: actions that are partly there (a talker's open mouth, a ~15 degree head turn), so the
# window counts neither as bona fide nor as an attack for them.
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    name: str
    video: str
    t0: float
    shows: dict[str, float]
    ambiguous: frozenset[str] = frozenset()
    mirror: bool = False  # synthetic: horizontally flipped (turn directions swap)
    subject: str = ""

    @property
    def key(self) -> str:
        return f"{self.name}"


def subject_of(video: str) -> str:
    """The short name windows are named after: ``liveportrait-d3.mp4`` -> ``d3``."""
    return video.split(".")[0].replace("liveportrait-", "").replace("sadtalker-WDA_AlexandriaOcasioCortez_000", "aoc")


def W(name: str, video: str, t0: float, shows: dict[str, float], ambiguous: str = "", mirror: bool = False) -> Window:
    return Window(name, video, t0, shows, frozenset(ambiguous.split()), mirror, subject_of(video))


D3, D9, D12, D13, D14, D18, D19 = (f"liveportrait-d{n}.mp4" for n in (3, 9, 12, 13, 14, 18, 19))
AOC = "sadtalker-WDA_AlexandriaOcasioCortez_000.mp4"
WINDOWS = [
    W("d13@0.9", D13, 0.9, {"blink": 1.4}),
    W("d13@8.5", D13, 8.5, {"blink": 9.8}),
    W("d14@0.0", D14, 0.0, {"blink": 0.5}),
    W("d14@6.0", D14, 6.0, {"blink": 7.03}, "nod"),
    W("d14@12.0", D14, 12.0, {"blink": 12.37}),
    W("d18@1.2", D18, 1.2, {"open_mouth": 2.6, "blink": 3.2}),
    W("d18@3.6", D18, 3.6, {"open_mouth": 4.5, "blink": 6.2}),
    W("d12@0.0", D12, 0.0, {"blink": 2.0}, "open_mouth turn_left turn_right nod"),
    # 6.4-7.0 s: a fast head roll with motion blur; the landmark fit slips, so the turn is ambiguous.
    W("d12@4.0", D12, 4.0, {"open_mouth": 5.0, "blink": 5.5}, "nod turn_left turn_right"),
    W("d9@0.0", D9, 0.0, {"blink": 0.4}),
    W("d9@13.0", D9, 13.0, {"blink": 14.3}),
    W("aoc@0.0", AOC, 0.0, {"blink": 0.45}, "open_mouth turn_left turn_right"),
    W("aoc@4.0", AOC, 4.0, {"blink": 4.45}, "open_mouth"),
    W("d3@0.0", D3, 0.0, {}, "turn_right"),  # winks (one eye): not a blink
    W("d3@3.0", D3, 3.0, {}, "turn_left nod"),  # looks down, frowns
    W("d3@6.0", D3, 6.0, {"turn_right": 7.0}, "nod turn_left"),
    W("d3@7.0", D3, 7.0, {"turn_left": 8.8, "nod": 8.8}, "turn_right"),
    W("d3@8.8", D3, 8.8, {"open_mouth": 10.4}, "turn_right turn_left blink nod"),
    W("d19@1.5", D19, 1.5, {}),  # lip twists and smile squints, no blink
    W("d19@5.0", D19, 5.0, {}),
    # Synthetic: mirrored copies of the real head turns (the data has no deliberate turn).
    W("d3@6.0-mirror", D3, 6.0, {"turn_left": 7.0}, "nod turn_right", mirror=True),
    W("d3@7.0-mirror", D3, 7.0, {"turn_right": 8.8, "nod": 8.8}, "turn_left", mirror=True),
    W("d12@4.0-mirror", D12, 4.0, {"open_mouth": 5.0, "blink": 5.5}, "nod turn_left turn_right", mirror=True),
]
# Each video subject's reference: a frame outside all its windows, enrolled like an ID photo.
VIDEO_REFERENCE_T = {D3: 2.4, D9: 8.0, D12: 3.5, D13: 6.0, D14: 10.0, D18: 0.5, D19: 0.6, AOC: 3.5}
WINDOW_S = 3.0
PHOTO_ATTACKS = 24  # photos turned into hand-held videos


# --------------------------------------------------------------------------------------------
# Face pairs
# --------------------------------------------------------------------------------------------


def photo_rows() -> list[dict[str, str]]:
    with (DATA / "faces" / "labels.csv").open() as fh:
        return list(csv.DictReader(fh))


def photo_rgb(path: Path) -> np.ndarray:
    """Any labelled photo as upright RGB.  Enrolment takes JPEG/PNG only since the error-catalogue
    change, but the face-pair figures are about the encoder, so other formats (WebP, GIF, ...) in
    the labelled set are decoded here the way enrolment used to (PIL, EXIF orientation)."""
    from PIL import Image, ImageOps

    from idsvc.core.errors import IdsvcError

    data = path.read_bytes()
    try:
        return enrol.load_photo_rgb(data)
    except IdsvcError:
        with Image.open(io.BytesIO(data)) as im:
            return np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(im).convert("RGB"), dtype=np.uint8))


def photo_encoding(path: Path, sha: str) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """Largest face's encoding and box (top, right, bottom, left); cached by file hash."""
    cache = cache_dir() / "photos" / f"{sha}.npz"
    if cache.exists():
        z = np.load(cache)
        return (z["enc"], tuple(int(v) for v in z["box"])) if z["enc"].size else None
    import cv2

    rgb = photo_rgb(path)
    h, w = rgb.shape[:2]
    s = min(1.0, enrol.DETECT_LONG_SIDE / max(h, w))
    small = rgb if s == 1.0 else cv2.resize(rgb, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    boxes = [b.scaled(1.0 / s) for b in engine().detect(small, 1)]
    cache.parent.mkdir(exist_ok=True)
    if not boxes:
        np.savez(cache, enc=np.zeros(0), box=np.zeros(4))
        return None
    b = boxes[0]
    enc = engine().encode(rgb, b)
    np.savez(cache, enc=enc, box=np.array([b.top, b.right, b.bottom, b.left]))
    return enc, (b.top, b.right, b.bottom, b.left)


def face_pairs(cfg: LivenessConfig, verbose: bool) -> dict[str, object]:
    rows = [r for r in photo_rows() if r["identity"] and "/multi/" not in r["file"] and "/noface/" not in r["file"]]
    encs = {}
    for r in rows:
        got = photo_encoding(DATA / r["file"], r["sha256"])
        if got is not None:
            encs[r["file"]] = got[0]
    gen, imp = [], []
    hardest: list[tuple[float, str, str]] = []
    for a, b in itertools.combinations([r for r in rows if r["file"] in encs], 2):
        d = float(np.linalg.norm(encs[a["file"]] - encs[b["file"]]))
        if a["identity"] == b["identity"]:
            if a["same_photo_group"] and a["same_photo_group"] == b["same_photo_group"]:
                continue
            gen.append(d)
        else:
            imp.append(d)
            hardest.append((d, a["file"], b["file"]))
    g, i = np.array(gen), np.array(imp)
    t = cfg.match_threshold
    t0 = float(np.nextafter(i.min(), 0))  # largest threshold with no impostor accepted
    print("\n== Face matching: photo pairs (faces/labels.csv, single-person photos) ==")
    print(
        f"photos encoded {len(encs)}/{len(rows)}; genuine pairs {len(g)} (same-photo pairs dropped); impostor pairs {len(i)}"
    )
    print(f"genuine  distance min/p5/median/p95/max: {_q(g)}")
    print(f"impostor distance min/p5/median/p95/max: {_q(i)}")
    print(f"{'threshold':>12} {'FAR':>16} {'FRR':>14}")
    for thr in sorted({0.45, 0.5, 0.55, 0.6, t, round(t0, 4)}):
        print(
            f"{thr:12.4f} {_rate((i <= thr).sum(), len(i)):>16} {_rate((g > thr).sum(), len(g)):>14}"
            + ("  <- configured" if thr == t else "")
            + ("  <- FAR=0 limit" if thr == round(t0, 4) else "")
        )
    print(
        f"threshold at FAR=0: accept d <= {t0:.4f} (lowest impostor distance {i.min():.4f}), FRR there {_rate((g > t0).sum(), len(g))}"
    )
    if verbose:
        for d, a, b in sorted(hardest)[:5]:
            print(f"  hardest impostor {d:.3f} {a} {b}")
    return {"far": float((i <= t).mean()), "frr": float((g > t).mean()), "t_far0": t0}


def enrolment_table() -> None:
    from idsvc.core.errors import IdsvcError

    outcomes: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    for r in photo_rows():
        kind = "multi" if "/multi/" in r["file"] else "noface" if "/noface/" in r["file"] else "single"
        try:
            enrol.encode_reference_photo((DATA / r["file"]).read_bytes())
            code = "accepted"
        except IdsvcError as exc:
            code = exc.code
        outcomes[code] += 1
        by_kind[kind][code] += 1
    print("\n== Enrolment checks on every labelled photo (encode_reference_photo) ==")
    for kind, c in by_kind.items():
        print(f"  {kind:7s} " + ", ".join(f"{k}: {v}" for k, v in sorted(c.items())))


# --------------------------------------------------------------------------------------------
# Liveness
# --------------------------------------------------------------------------------------------


def video_path(name: str) -> Path:
    return DATA / "videos" / name


def derived(name: str, make) -> Path:
    path = cache_dir() / "clips" / name
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        tmp = path.with_suffix(".part.mp4")
        make(tmp)
        tmp.rename(path)
    return path


def window_clip(w: Window) -> Path:
    return derived(
        f"{w.key}.mp4",
        lambda p: synth.cut(video_path(w.video), p, w.t0, WINDOW_S, transform=synth.hflip if w.mirror else None),
    )


def video_reference(video: str) -> np.ndarray:
    cache = cache_dir() / "refs" / f"{video}.npy"
    if cache.exists():
        return np.load(cache)
    from PIL import Image

    frames, _ = synth.read_frames(video_path(video), VIDEO_REFERENCE_T[video], 0.05)
    buf = io.BytesIO()
    Image.fromarray(frames[0]).save(buf, format="PNG")
    enc = enrol.encode_reference_photo(buf.getvalue())
    cache.parent.mkdir(exist_ok=True)
    np.save(cache, enc)
    return enc


@dataclass
class Tally:
    results: list[tuple[str, str, bool, str | None]] = field(
        default_factory=list
    )  # (sample, challenge, accepted, reason)

    def add(self, sample: str, challenge: str, accepted: bool, reason: str | None) -> None:
        self.results.append((sample, challenge, accepted, reason))

    @property
    def n(self) -> int:
        return len(self.results)

    @property
    def accepted(self) -> int:
        return sum(1 for r in self.results if r[2])

    def reasons(self) -> str:
        c = Counter(r[3] or "passed" for r in self.results)
        return ", ".join(f"{k} {v}" for k, v in c.most_common())


_INSPECTIONS: dict[Path, Inspection] = {}


def inspected(path: Path, cfg: LivenessConfig) -> Inspection:
    if path not in _INSPECTIONS:
        _INSPECTIONS[path] = inspect(path, config=cfg)
    return _INSPECTIONS[path]


def liveness(cfg: LivenessConfig, verbose: bool) -> dict[str, object]:
    refs = {v: video_reference(v) for v in VIDEO_REFERENCE_T}
    photo_refs = {}
    rows = photo_rows()
    by_id: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        if (
            r["identity"]
            and "/multi/" not in r["file"]
            and not r["identity"].startswith("john-")
            and r["identity"] != "tom-hanks"
        ):
            by_id[r["identity"]].append(r)
    for ident, rs in by_id.items():
        got = photo_encoding(DATA / rs[0]["file"], rs[0]["sha256"])
        if got is not None:
            photo_refs[ident] = got[0]

    bona = Tally()
    per_challenge: dict[str, Tally] = defaultdict(Tally)
    attacks: dict[str, Tally] = defaultdict(Tally)
    genuine_d, drift_bona = [], []
    impostor_d: list[tuple[float, str]] = []
    t_start = time.perf_counter()

    def show(kind: str, sample: str, challenge: str, dec) -> None:
        if verbose:
            m = dec.measurements
            sig = m.get("challenge_result", {}).get("signal")
            dist = m.get("match", {}).get("distance")
            print(
                f"  [{kind}] {sample:34s} {challenge:11s} {'PASS' if dec.passed else dec.reason:24s} signal={sig} dist={dist} static={m.get('static', {}).get('residual')}"
            )

    for w in WINDOWS:
        ins = inspected(window_clip(w), cfg)
        ref = refs[w.video]
        for c in ALL:
            if c in w.ambiguous:
                continue
            dec = decide(ins, c, ref)
            if c in w.shows:
                bona.add(w.name, c, dec.passed, dec.reason)
                per_challenge[c].add(w.name, c, dec.passed, dec.reason)
                show("bona fide", w.name, c, dec)
                if "match" in dec.measurements:
                    genuine_d.append(dec.measurements["match"]["distance"])
                    drift_bona.append(dec.measurements["identity_drift"]["max_pairwise"])
                # The same genuine window for everybody else: face_mismatch expected.
                others = {k: v for k, v in refs.items() if k != w.video} | photo_refs
                for other, oref in others.items():
                    d2 = decide(ins, c, oref)
                    attacks["wrong_person"].add(f"{w.name} as {other}", c, d2.passed, d2.reason)
                    if "match" in d2.measurements:
                        impostor_d.append((d2.measurements["match"]["distance"], f"{w.name} as {other}"))
                    if verbose and d2.passed:
                        show("wrong person", f"{w.name} as {other}", c, d2)
            else:
                attacks["wrong_challenge"].add(w.name, c, dec.passed, dec.reason)
                show("wrong challenge", w.name, c, dec)

    # Splices: X's first 1.5 s, then 1.5 s of Y around Y's action (and the reverse), presented for X.
    real = [w for w in WINDOWS if not w.mirror and w.shows]
    drift_splice = []
    for k, wy in enumerate(real):
        wx = next(x for x in real[k + 1 :] + real[:k] if x.subject != wy.subject)
        for action, ta in wy.shows.items():
            if action in ("turn_left", "turn_right", "nod"):
                t_y = max(0.0, ta - 1.0)
            else:
                t_y = max(0.0, ta - 0.75)
            for order in ("xy", "yx"):
                parts = [(video_path(wx.video), wx.t0, 1.5), (video_path(wy.video), t_y, 1.5)]
                if order == "yx":
                    parts.reverse()
                name = f"splice-{order}-{wx.key}-{wy.key}-{action}"
                clip = derived(f"{name}.mp4", lambda p, parts=parts: synth.splice(parts, p))
                ins = inspected(clip, cfg)
                dec = decide(ins, action, refs[wx.video])
                attacks["splice"].add(name, action, dec.passed, dec.reason)
                show("splice", name, action, dec)
                # The second layer alone: the same clip with the scene-cut check switched off.
                dec2 = decide(
                    dataclasses.replace(ins, cfg=dataclasses.replace(cfg, scene_cut_check=False)),
                    action,
                    refs[wx.video],
                )
                attacks["splice (drift layer only)"].add(name, action, dec2.passed, dec2.reason)
                if "identity_drift" in dec2.measurements:
                    drift_splice.append(dec2.measurements["identity_drift"]["max_pairwise"])

    # Photo attacks: a photo of X held up, presented for X (reference = another photo of X).
    chosen = []
    for ident, rs in sorted(by_id.items()):
        if len(rs) >= 2:
            chosen += [(ident, r) for r in rs[1:3]]
    chosen = chosen[:PHOTO_ATTACKS]
    for n, (ident, r) in enumerate(chosen):
        got = photo_encoding(DATA / r["file"], r["sha256"])
        if got is None or ident not in photo_refs:
            continue
        name = f"photo-{Path(r['file']).stem}"

        def make(p: Path, r: dict[str, str] = r, box: tuple[int, int, int, int] = got[1], n: int = n) -> None:
            rgb = photo_rgb(DATA / r["file"])
            synth.photo_attack(rgb, box, p, seed=n)

        ins = inspected(derived(f"{name}.mp4", make), cfg)
        for c in ALL:
            dec = decide(ins, c, photo_refs[ident])
            attacks["photo"].add(name, c, dec.passed, dec.reason)
            show("photo", name, c, dec)

    print("\n== Liveness: 3-s windows (bona fide) and attacks ==")
    print(
        f"windows {len(WINDOWS)} ({sum(w.mirror for w in WINDOWS)} mirrored), analysis wall time {time.perf_counter() - t_start:.0f} s"
    )
    print(f"{'set':31s} {'presentations':>13s} {'accepted':>9s} {'rate':>16s}  outcomes")
    print(
        f"{'bona fide (BPCER)':31s} {bona.n:13d} {bona.accepted:9d} {_rate(bona.n - bona.accepted, bona.n):>16s}  {bona.reasons()}"
    )
    for c, tl in sorted(per_challenge.items()):
        print(f"{'  ' + c:31s} {tl.n:13d} {tl.accepted:9d} {_rate(tl.n - tl.accepted, tl.n):>16s}  {tl.reasons()}")
    for kind in ("photo", "wrong_person", "wrong_challenge", "splice", "splice (drift layer only)"):
        tl = attacks[kind]
        print(f"{'APCER ' + kind:31s} {tl.n:13d} {tl.accepted:9d} {_rate(tl.accepted, tl.n):>16s}  {tl.reasons()}")
    for kind in ("photo", "wrong_challenge", "splice"):
        for s, c, acc, _ in attacks[kind].results:
            if acc:
                print(f"  ACCEPTED {kind}: {s} {c}")
    pairs = Counter(
        s.split("@")[0] + " as " + s.split(" as ")[1] for s, _, acc, _ in attacks["wrong_person"].results if acc
    )
    for pair, k in sorted(pairs.items()):
        print(f"  ACCEPTED wrong_person: {pair} ({k} presentations)")
    for s, _, acc, _ in attacks["splice (drift layer only)"].results:
        if acc:
            print(f"  ACCEPTED by the drift layer alone: {s}")
    rejected_bona = [(s, c, r) for s, c, acc, r in bona.results if not acc]
    for s, c, r in rejected_bona:
        print(f"  REJECTED bona fide: {s} {c} -> {r}")
    if genuine_d:
        print(
            f"bona fide video-to-reference distance min/median/max: {min(genuine_d):.3f} / {np.median(genuine_d):.3f} / {max(genuine_d):.3f}"
        )
        low = sorted(impostor_d)[:3]
        print(
            "lowest wrong-person distances: "
            + ", ".join(f"{d:.3f} ({who})" for d, who in low)
            + f"; wrong-person APCER at 0.45 would be {sum(d <= 0.45 for d, _ in impostor_d)}/{len(attacks['wrong_person'].results)}"
        )
        print(
            f"identity drift (max pairwise): bona fide max {max(drift_bona):.3f} (threshold {cfg.identity_drift_max}); "
            f"splices min {min(drift_splice) if drift_splice else float('nan'):.3f}"
        )
    statics = [(w.name, inspected(window_clip(w), cfg).static) for w in WINDOWS]
    res = [s.residual for _, s in statics if s is not None]
    ph = [
        _INSPECTIONS[p].static.residual for p in _INSPECTIONS if p.name.startswith("photo-") and _INSPECTIONS[p].static
    ]
    print(
        f"static residual: genuine windows min {min(res):.3f} (threshold {cfg.static_max_residual}); photo attacks max {max(ph) if ph else float('nan'):.3f}"
    )
    return {"bpcer": 1 - bona.accepted / max(bona.n, 1), **{k: v.accepted / max(v.n, 1) for k, v in attacks.items()}}


# --------------------------------------------------------------------------------------------
# Sequence challenges (issue #11)
# --------------------------------------------------------------------------------------------

REPLAY_DRAWS = 300  # sequence challenges drawn per genuine window
# Bona fide sequences.  For every ordered pair of labelled actions (a1 then a2, different actions,
# one video; mirrored copies for pairs with a turn), the 3-s window's START in the source video is
# searched on a START_STEP_S grid for a window that a member reacting r seconds after each prompt
# could have recorded: first prompt at 0, a1's measured onset >= r - tolerance and before the
# second prompt, the second prompt p2 = a2's measured onset - r inside the server's range, and a2's
# peak inside the window.  Onsets are the analysis' own (checks.challenge(...).details["onset_t"])
# for the labelled occurrence: the action's peak searched within LABEL_SLACK_S of the eye label.
REACTION_TIMES = (0.2, 0.3, 0.4, 0.5, 0.6)
TOLERANCES = (0.0, 0.1, 0.25, 0.4)  # prompt_tolerance_s values of the tolerance table
START_STEP_S = 0.1
LABEL_SLACK_S = {"blink": 0.4}  # blinks are labelled to the frame, movements at their clearest pose
LABEL_SLACK_DEFAULT_S = 0.8  # d3's nod, labelled 8.8 s, is measured peaking at ~8.2 s
MIRRORED = {"turn_left": "turn_right", "turn_right": "turn_left"}


@dataclass(frozen=True)
class Event:
    action: str
    t: float  # source-video seconds (eye label)


@dataclass(frozen=True)
class SeqPair:
    video: str
    mirror: bool
    first: Event
    second: Event

    @property
    def name(self) -> str:
        return f"{subject_of(self.video)}{'-mirror' if self.mirror else ''} {self.first.action}+{self.second.action}"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.first.t:g} s, {self.second.t:g} s)"

    @property
    def movement_only(self) -> bool:
        return "blink" not in (self.first.action, self.second.action)


@dataclass
class Measured:
    """One candidate start: the two labelled actions as the analysis measures them in that window."""

    start: float
    ins: Inspection
    r1: Any  # checks.ChallengeResult
    r2: Any
    end_t: float  # last analysed frame (s, window time)

    @property
    def both(self) -> bool:
        return (
            self.r1.performed
            and self.r2.performed
            and self.r1.details.get("onset_t") is not None
            and self.r2.details.get("onset_t") is not None
        )

    @property
    def o1(self) -> float:
        return float(self.r1.details["onset_t"])

    @property
    def o2(self) -> float:
        return float(self.r2.details["onset_t"])


def labelled_events() -> dict[tuple[str, bool], list[Event]]:
    """(video, mirrored) -> its labelled actions, from WINDOWS' ``shows`` (never from ``ambiguous``)."""
    out: dict[tuple[str, bool], list[Event]] = defaultdict(list)
    for w in WINDOWS:
        if not w.mirror:
            for a, t in w.shows.items():
                if Event(a, t) not in out[(w.video, False)]:
                    out[(w.video, False)].append(Event(a, t))
    for (video, _), evs in list(out.items()):
        if any(e.action in MIRRORED for e in evs):
            out[(video, True)] = [Event(MIRRORED.get(e.action, e.action), e.t) for e in evs]
    return {k: sorted(v, key=lambda e: (e.t, e.action)) for k, v in out.items()}


def sequence_pairs() -> list[SeqPair]:
    pairs = []
    for (video, mirror), evs in labelled_events().items():
        for e1, e2 in itertools.permutations(evs, 2):
            if e1.action == e2.action or (mirror and not {e1.action, e2.action} & set(MIRRORED)):
                continue
            pairs.append(SeqPair(video, mirror, e1, e2))
    return pairs


def video_duration(video: str) -> float:
    import av

    with av.open(str(video_path(video))) as c:
        s = c.streams.video[0]
        return float(s.duration * s.time_base) if s.duration else float(c.duration or 0) / 1e6


def candidate_starts(p: SeqPair) -> list[float]:
    """Starts (grid) whose window can hold both labels: a2 by the window's end, a1 not before its start."""
    lo = max(0.0, p.second.t - WINDOW_S)
    hi = min(p.first.t, video_duration(p.video) - WINDOW_S)
    k0, k1 = math.ceil(round(lo / START_STEP_S, 6)), math.floor(round(hi / START_STEP_S, 6))
    return [round(k * START_STEP_S, 1) for k in range(k0, k1 + 1)]


def measure_start(p: SeqPair, s: float, cfg: LivenessConfig) -> Measured | None:
    from idsvc.liveness import checks

    w = Window(f"{subject_of(p.video)}@{s:.1f}{'-mirror' if p.mirror else ''}", p.video, s, {}, mirror=p.mirror)
    ins = inspected(window_clip(w), cfg)
    if ins.signals is None:
        return None

    def at(e: Event) -> Any:
        slack = LABEL_SLACK_S.get(e.action, LABEL_SLACK_DEFAULT_S)
        return checks.challenge(e.action, ins.signals, cfg, (e.t - s - slack, e.t - s + slack))

    return Measured(s, ins, at(p.first), at(p.second), float(ins.signals.t[-1]))


def _prompt2(m: Measured, r: float) -> float:
    """The second prompt a member reacting in r s would have seen: r before a2's onset, rounded
    down to 10 ms (the server draws prompts to 10 ms), so the reaction is never shorter than r."""
    return math.floor(round((m.o2 - r) * 100.0, 6)) / 100.0


def _fits(m: Measured, r: float, tol: float, settings: Any, cfg: LivenessConfig) -> str | None:
    """None when the window is a usable bona fide sequence for reaction time r, else the first unmet condition."""
    if not m.both:
        return "not measured"
    p2 = _prompt2(m, r)
    if not settings.challenge_prompt_min_s <= p2 <= settings.challenge_prompt_max_s:
        return "prompt"
    if m.o1 < r - tol - 1e-9:
        return "early"
    if m.o1 >= p2:
        return "late"
    if m.o2 < p2 + r - tol - 1e-9:
        return "early2"
    if (m.r2.peak_t or 0.0) > m.end_t - cfg.hold_s:
        return "end"
    return None


_WHY = {
    "prompt": "{a2}'s onset - r is outside {pmin}-{pmax} s (onsets {o2})",
    "early": "{a1} starts before r - tolerance (onsets {o1})",
    "late": "{a1} starts after the second prompt (onsets {o1}, {a2} {o2})",
    "early2": "{a2} starts before its prompt + r - tolerance",
    "end": "{a2} peaks at the window's end",
}


def _span(values: list[float]) -> str:
    if not values:
        return "none"
    lo, hi = min(values), max(values)
    return f"{lo:.2f}" if abs(hi - lo) < 0.005 else f"{lo:.2f}-{hi:.2f}"


def _starts_text(starts: list[float]) -> str:
    """[5.8, 5.9, 6.0, 6.3] -> '5.8-6.0, 6.3'."""
    if not starts:
        return "none"
    runs: list[list[float]] = [[starts[0]]]
    for s in starts[1:]:
        if round(s - runs[-1][-1], 6) <= START_STEP_S + 1e-6:
            runs[-1].append(s)
        else:
            runs.append([s])
    return ", ".join(f"{r[0]:.1f}" if len(r) == 1 else f"{r[0]:.1f}-{r[-1]:.1f}" for r in runs)


@dataclass
class SeqSearch:
    """Every pair's candidate starts, measured once; presentations for any (r, tolerance)."""

    pairs: list[SeqPair]
    measured: dict[SeqPair, list[Measured]]
    unusable: dict[SeqPair, str]  # pairs no reaction time or tolerance can use, with the reason

    def pick(self, p: SeqPair, r: float, tol: float, settings: Any, cfg: LivenessConfig) -> Measured | None:
        """The usable start whose second prompt is nearest the middle of the server's range."""
        mid = (settings.challenge_prompt_min_s + settings.challenge_prompt_max_s) / 2.0
        ok = [m for m in self.measured.get(p, []) if _fits(m, r, tol, settings, cfg) is None]
        return min(ok, key=lambda m: (abs(m.o2 - r - mid), m.start)) if ok else None

    def why(self, p: SeqPair, r: float, tol: float, settings: Any, cfg: LivenessConfig) -> str:
        both = [m for m in self.measured[p] if m.both]
        fails = Counter(_fits(m, r, tol, settings, cfg) for m in both)
        # the condition that stopped the most starts (conditions are checked in _fits' order)
        code = fails.most_common(1)[0][0]
        return _WHY[str(code)].format(
            a1=p.first.action,
            a2=p.second.action,
            pmin=settings.challenge_prompt_min_s,
            pmax=settings.challenge_prompt_max_s,
            o1=_span([m.o1 for m in both]) + " s",
            o2=_span([m.o2 for m in both]) + " s",
        )


def sequence_search(cfg: LivenessConfig) -> SeqSearch:
    pairs = sequence_pairs()
    measured: dict[SeqPair, list[Measured]] = {}
    unusable: dict[SeqPair, str] = {}
    for p in pairs:
        a1, a2, t1, t2 = p.first.action, p.second.action, p.first.t, p.second.t
        if t2 < t1:
            unusable[p] = f"{a2} ({t2:g} s) comes before {a1} ({t1:g} s) in the video"
            continue
        starts = candidate_starts(p)
        if not starts:
            unusable[p] = f"{t2 - t1:.1f} s apart: no 3-s window of the video holds both"
            continue
        ms = [m for m in (measure_start(p, s, cfg) for s in starts) if m is not None]
        measured[p] = ms
        if not any(m.both for m in ms):
            unusable[p] = (
                f"no start in {_starts_text(starts)} s where the analysis measures both "
                f"({a1} at starts {_starts_text([m.start for m in ms if m.r1.performed])}, "
                f"{a2} at {_starts_text([m.start for m in ms if m.r2.performed])})"
            )
    return SeqSearch(pairs, measured, unusable)


def bona_fide_sequences(
    search: SeqSearch, cfg: LivenessConfig, tol: float, settings: Any, refs: dict[str, np.ndarray]
) -> dict[SeqPair, dict[float, tuple[Measured, float, Any] | None]]:
    """For each measurable pair and reaction time: (chosen start, second prompt, decision) or None."""
    out: dict[SeqPair, dict[float, tuple[Measured, float, Any] | None]] = {}
    for p in search.pairs:
        if p in search.unusable:
            continue
        out[p] = {}
        for r in REACTION_TIMES:
            m = search.pick(p, r, tol, settings, cfg)
            if m is None:
                out[p][r] = None
                continue
            p2 = _prompt2(m, r)
            c = {
                "kind": "sequence",
                "actions": [{"action": p.first.action, "prompt_s": 0.0}, {"action": p.second.action, "prompt_s": p2}],
            }
            ins = m.ins
            if tol != ins.cfg.prompt_tolerance_s:
                ins = dataclasses.replace(ins, cfg=dataclasses.replace(ins.cfg, prompt_tolerance_s=tol))
            out[p][r] = (m, p2, decide(ins, c, refs[p.video]))
    return out


def sequences(cfg: LivenessConfig, verbose: bool) -> None:
    """Replay APCER per session (3 attempts) against freshly drawn sequences; bona fide sequences
    from searched window starts; the prompt tolerance table; the light check on real tracks with
    synthetic reflections (right, wrong and missing colours)."""
    from idsvc.core.settings import Settings
    from idsvc.liveness import light as light_mod
    from idsvc.liveness import new_challenge, sequence

    settings = Settings()
    refs = {v: video_reference(v) for v in VIDEO_REFERENCE_T}
    rng = __import__("random").Random(11)
    print("\n== Sequence challenges (issue #11) ==")
    print(f"{'set':31s} {'presentations':>13s} {'accepted':>9s} {'rate':>16s}  outcomes")
    # Replay: every genuine window, as it is, against challenges it could not know; once with the
    # default action pool (movements only) and once with blink added to the sequences.
    movements = tuple(a for a in settings.challenges if a != "blink")
    no_blink = dataclasses.replace(settings, challenges=movements)
    _replay(cfg, no_blink, refs, rng, "", "")
    with_blink = dataclasses.replace(settings, challenges=(*movements, "blink"))
    _replay(cfg, with_blink, refs, __import__("random").Random(11), " with-blink", " (with blink)")

    # Bona fide sequences: searched window starts, each reaction time, the configured tolerance.
    tol = cfg.prompt_tolerance_s
    search = sequence_search(cfg)
    got = bona_fide_sequences(search, cfg, tol, settings, refs)
    bona, moves, blinks = Tally(), Tally(), Tally()
    for p, by_r in got.items():
        for r, hit in by_r.items():
            if hit is None:
                continue
            m, p2, dec = hit
            for tl in (bona, moves if p.movement_only else blinks):
                tl.add(p.name, f"r={r} start={m.start} prompt2={p2}", dec.passed, dec.reason)
            if verbose or not dec.passed:
                print(
                    f"  bona fide sequence {p.name} r={r} start={m.start:.1f} prompt2={p2}: "
                    f"{'PASS' if dec.passed else dec.reason} {dec.measurements.get('challenge_result')}"
                )
    print(
        f"{'bona fide sequences (BPCER)':31s} {bona.n:13d} {bona.accepted:9d} {_rate(bona.n - bona.accepted, bona.n):>16s}  {bona.reasons()}"
    )
    for label, tl in (("  movement-only pairs", moves), ("  pairs with blink", blinks)):
        print(f"{label:31s} {tl.n:13d} {tl.accepted:9d} {_rate(tl.n - tl.accepted, tl.n):>16s}  {tl.reasons()}")
    print(
        f"  (window starts searched every {START_STEP_S} s; r = reaction time {', '.join(f'{r:g}' for r in REACTION_TIMES)} s;"
        f" prompt tolerance {tol:g} s; one start per pair and r)"
    )
    events: set[tuple[str, str, float]] = set()
    for p, by_r in got.items():
        hits = {r: h for r, h in by_r.items() if h is not None}
        if not hits:
            continue
        events |= {
            (subject_of(p.video), MIRRORED.get(e.action, e.action) if p.mirror else e.action, e.t)
            for e in (p.first, p.second)
        }
        used = "; ".join(
            f"r={r:g} start {m.start:.1f} s prompt2 {p2:.2f} s {'PASS' if dec.passed else dec.reason}"
            for r, (m, p2, dec) in hits.items()
        )
        missed = [r for r in REACTION_TIMES if r not in hits]
        note = ""
        if missed:
            whys = Counter(search.why(p, r, tol, settings, cfg) for r in missed)
            note = "; not at r=" + ", ".join(f"{r:g}" for r in missed) + ": " + " / ".join(whys)
        print(f"  usable pair {p.label}: {used}{note}")
    reversed_pairs = [p for p in search.pairs if p.second.t < p.first.t]
    for p in search.pairs:
        if p in reversed_pairs:
            continue
        if p in search.unusable:
            print(f"  unusable pair {p.label}: {search.unusable[p]}")
        elif all(h is None for h in got[p].values()):
            whys = Counter(search.why(p, r, tol, settings, cfg) for r in REACTION_TIMES)
            both = [m.start for m in search.measured[p] if m.both]
            print(f"  unusable pair {p.label}: both measured at starts {_starts_text(both)} s, but " + " / ".join(whys))
    print(
        f"  unusable, a2 before a1 in the video ({len(reversed_pairs)} pairs): "
        + ", ".join(f"{p.name} ({p.first.t:g}/{p.second.t:g} s)" for p in reversed_pairs)
    )
    print(
        f"  source events behind the usable pairs: {len(events)} ("
        + ", ".join(f"{s} {a} {t:g} s" for s, a, t in sorted(events))
        + "); mirrored copies reuse them"
    )

    # Light: real tracks (their own skin chroma) plus a rendered reflection of the asked colours,
    # of wrong colours, or none.  Gain 6 chroma levels per 50 units of a colour's chroma.
    light_t: dict[str, Tally] = defaultdict(Tally)
    for w in WINDOWS:
        ins = inspected(window_clip(w), cfg)
        if ins.track is None:
            continue
        tr = ins.track
        for k in range(20):
            c = new_challenge(settings, rng)
            flashes = sequence.parse(c).flashes
            wrong = list(flashes[1:]) + [flashes[0]]
            for kind, shown in (
                ("right", flashes),
                ("wrong", tuple(sequence.Flash(f.colour, g.rgb, f.start_s, f.end_s) for f, g in zip(flashes, wrong))),
                ("missing", ()),
            ):
                col = tr.colour.copy()
                for f in shown:
                    sel = (tr.t >= f.start_s + 0.05) & (tr.t < f.end_s)
                    col[sel, 1:3] += 6.0 * light_mod.chroma(f.rgb) / 50.0
                verdict = light_mod.check(tr.t, col, flashes).verdict
                light_t[kind].add(w.name, str(k), verdict == "passed", verdict)
    for kind in ("right", "wrong", "missing"):
        tl = light_t[kind]
        label = "light bona fide (BPCER)" if kind == "right" else f"APCER light {kind}"
        rate = _rate(tl.n - tl.accepted, tl.n) if kind == "right" else _rate(tl.accepted, tl.n)
        print(f"{label:31s} {tl.n:13d} {tl.accepted:9d} {rate:>16s}  {tl.reasons()}")

    # The prompt tolerance: bona fide pass rate (pairs usable at that tolerance) and replay APCER
    # per session (movement-only pool, the same draws at every tolerance).
    print("\nprompt tolerance: replay APCER per session (3 attempts, no blink) and bona fide sequences passed/usable")
    print("  at reaction time r (all pairs; movement-only pairs in brackets)")
    print(
        f"{'tolerance':>9s} {'replay APCER/session':>22s} "
        + " ".join(f"{'r=' + format(r, 'g') + ' s':>11s}" for r in REACTION_TIMES)
    )
    for t in TOLERANCES:
        cfg_t = dataclasses.replace(cfg, prompt_tolerance_s=t)
        acc, n = _replay(cfg_t, no_blink, refs, __import__("random").Random(11), "", "", quiet=True)
        by_pair = bona_fide_sequences(search, cfg_t, t, settings, refs)
        cells = []
        for r in REACTION_TIMES:
            hits = [(p, h[2].passed) for p, by_r in by_pair.items() if (h := by_r[r]) is not None]
            mv = [ok for p, ok in hits if p.movement_only]
            cells.append(f"{sum(ok for _, ok in hits)}/{len(hits)} ({sum(mv)}/{len(mv)})")
        print(f"{t:9.2f} {_rate(acc, n):>22s} " + " ".join(f"{c:>11s}" for c in cells))


def _replay(
    cfg: LivenessConfig,
    settings: Any,
    refs: dict[str, np.ndarray],
    rng: Any,
    tag: str,
    label: str,
    quiet: bool = False,
) -> tuple[int, int]:
    """APCER of replayed genuine windows against ``REPLAY_DRAWS`` drawn sequences each, per attempt
    and per session of 3 attempts (a fresh challenge each); returns (sessions accepted, sessions).
    ``cfg`` applies to the decision (inspections are cached whatever their config)."""
    from idsvc.liveness import new_challenge

    per_attempt = Tally()
    sessions = accepted_sessions = 0
    passed_by: Counter[str] = Counter()
    for w in WINDOWS:
        ins = inspected(window_clip(w), cfg)
        if ins.cfg != cfg:
            ins = dataclasses.replace(ins, cfg=cfg)
        outcomes = []
        for _ in range(REPLAY_DRAWS):
            c = new_challenge(settings, rng)
            c["light"] = None  # the movement sequence alone (the light check only adds to it)
            dec = decide(ins, c, refs[w.video])
            per_attempt.add(w.name, "+".join(a["action"] for a in c["actions"]), dec.passed, dec.reason)
            outcomes.append(dec.passed)
            if dec.passed:
                passed_by[f"{w.name} {'+'.join(a['action'] for a in c['actions'])}"] += 1
        for k in range(0, len(outcomes) - 2, 3):  # sessions of 3 attempts, fresh challenge each
            sessions += 1
            accepted_sessions += any(outcomes[k : k + 3])
    if quiet:
        return accepted_sessions, sessions
    label_a, label_s = f"APCER replay{tag} (per attempt)", f"APCER replay{tag} (per session, 3)"
    print(
        f"{label_a:31s} {per_attempt.n:13d} {per_attempt.accepted:9d} {_rate(per_attempt.accepted, per_attempt.n):>16s}  {per_attempt.reasons()}"
    )
    print(f"{label_s:31s} {sessions:13d} {accepted_sessions:9d} {_rate(accepted_sessions, sessions):>16s}")
    for k, v in passed_by.most_common(8):
        print(f"  ACCEPTED replay{label}: {k} ({v}x)")
    return accepted_sessions, sessions


def _q(x: np.ndarray) -> str:
    return " / ".join(f"{v:.3f}" for v in np.percentile(x, [0, 5, 50, 95, 100]))


def _rate(k: int, n: int) -> str:
    return f"{100.0 * k / n:6.2f}% ({k}/{n})" if n else "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("--skip-pairs", action="store_true")
    ap.add_argument("--skip-liveness", action="store_true")
    ap.add_argument("--skip-sequences", action="store_true")
    ap.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="override a LivenessConfig number for an experiment (e.g. landmark_keyframe_hz=15)",
    )
    args = ap.parse_args(argv)
    if not shared_dir().exists():
        print(f"shared data not found at {shared_dir()} (set IDSVC_DATA_DIR)", file=sys.stderr)
        return 2
    overrides = {k: float(v) for k, v in (item.split("=", 1) for item in args.set)}
    cfg = dataclasses.replace(LivenessConfig(), **overrides)
    print(f"data {shared_dir()}; cache {cache_dir()}" + (f"; config overrides {overrides}" if overrides else ""))
    if not args.skip_pairs:
        face_pairs(cfg, args.verbose)
        enrolment_table()
    if not args.skip_liveness:
        liveness(cfg, args.verbose)
    if not args.skip_sequences:
        sequences(cfg, args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
