"""Time as a collaborator: services ask a :class:`Clock` instead of calling ``time.time()``,
so tests can stand at the edge of a window without sleeping."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def __call__(self) -> float:
        return time.time()


class FixedClock:
    """A clock that moves only when told to (tests, evaluations)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
