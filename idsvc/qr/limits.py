"""Fixed-window rate limits of the qr feature, over :meth:`Store.hit` (fails open if Redis is down)."""

from __future__ import annotations

from dataclasses import dataclass

from idsvc.core.errors import RATE_LIMITED
from idsvc.core.store import Store

EXTENSION = "idsvc.qr.limits"
WINDOW = 60
#: Each visit of a QR's page stores an OAuth state in Redis: cap how fast one client can make them.
SCANS_PER_MINUTE = 30


@dataclass(frozen=True)
class RateLimiter:
    """``check(kind, who)`` counts one event and raises 429 ``rate_limited`` above the kind's limit."""

    store: Store
    limits: dict[str, int]
    window: int = WINDOW

    def check(self, kind: str, who: str) -> None:
        limit = self.limits[kind]
        if self.store.hit(self.store.key("rate", kind, who), self.window) > limit:
            raise RATE_LIMITED({"limit": limit, "window_seconds": self.window})
