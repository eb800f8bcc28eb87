"""The result model shared by every check: OFIQ-style raw value + verdict + the range it was judged against.

Every check returns a :class:`Check`; a whole upload returns a :class:`Result`.  Both are frozen and
serialise to the JSON shape clients rely on (``to_dict``), identical over HTTP and ``idsvc check --json``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNABLE = "unable"


@dataclass(frozen=True)
class Check:
    id: str
    verdict: Verdict
    value: Any
    unit: str
    range: str
    message: str
    message_en: str
    details: dict[str, Any] = field(default_factory=dict)
    # False for a check that does not apply here (e.g. `text` without OCR, `rotation` of a round
    # seal): it is reported as UNABLE but does not turn a PASS into a WARN.
    applicable: bool = True

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "verdict": self.verdict.value,
            "value": _round(self.value),
            "unit": self.unit,
            "range": self.range,
            "message": self.message,
            "message_en": self.message_en,
        }
        if self.details:
            out["details"] = {k: _round(v) for k, v in self.details.items()}
        return out


def _round(v: Any) -> Any:
    if isinstance(v, float):
        return round(v, 3)
    if isinstance(v, (list, tuple)):
        return [_round(x) for x in v]
    return v


def overall(checks: Iterable[Check]) -> Verdict:
    """FAIL if any check fails; otherwise WARN if any warns *or could not be assessed* (a reviewer
    should see what was not verified); UNABLE only when nothing beyond the file check could be
    assessed; PASS when every check passed."""
    cs = list(checks)
    verdicts = [c.verdict for c in cs]
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    content = [c.verdict for c in cs if c.id not in ("file", "scale")]
    if content and all(v is Verdict.UNABLE for v in content):
        return Verdict.UNABLE
    if Verdict.WARN in verdicts or Verdict.UNABLE in verdicts:
        return Verdict.WARN
    return Verdict.PASS


@dataclass(frozen=True)
class Result:
    kind: str  # "signature" | "seal"
    checks: tuple[Check, ...]
    dpi: float | None
    dpi_source: str  # "declared" | "sheet" | "unknown"
    image: dict[str, Any]
    asset_png: bytes | None = None  # cleaned 300-dpi RGBA PNG; None when nothing could be cropped
    measurements: dict[str, Any] = field(default_factory=dict)
    similarity: dict[str, Any] | None = None

    @property
    def verdict(self) -> Verdict:
        return overall(c for c in self.checks if c.applicable or c.verdict is not Verdict.UNABLE)

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def failed(self) -> list[str]:
        return [c.id for c in self.checks if c.verdict is Verdict.FAIL]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "verdict": self.verdict.value,
            "checks": [c.to_dict() for c in self.checks],
            "dpi": None if self.dpi is None else round(self.dpi, 1),
            "dpi_source": self.dpi_source,
            "image": self.image,
            "measurements": {k: _round(v) for k, v in self.measurements.items()},
        }
        if self.similarity is not None:
            out["similarity"] = {k: _round(v) for k, v in self.similarity.items()}
        return out


def mk(
    check_id: str,
    verdict: Verdict,
    value: Any,
    unit: str,
    rng: str,
    zh: str,
    en: str,
    **details: Any,
) -> Check:
    """Terse constructor used by the check modules."""
    return Check(check_id, verdict, value, unit, rng, zh, en, details)


def grade(value: float, pass_: tuple[float, float], warn: tuple[float, float]) -> Verdict:
    """PASS inside ``pass_`` (inclusive), WARN inside ``warn``, else FAIL."""
    if pass_[0] <= value <= pass_[1]:
        return Verdict.PASS
    if warn[0] <= value <= warn[1]:
        return Verdict.WARN
    return Verdict.FAIL
