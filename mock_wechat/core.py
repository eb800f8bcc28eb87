"""The mock's per-app object: fixed configuration plus the mutable state it owns."""

from __future__ import annotations

import threading
from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask import current_app

from mock_wechat.mp import OfficialAccountState
from mock_wechat.state import AdjustableClock, OAuthState

EXTENSION_KEY = "mock_wechat"


@dataclass(frozen=True)
class MockConfig:
    appid: str
    secret: str
    default_openid: str
    # Real WeChat only redirects to the app's configured 网页授权域名 (exact host, no subdomains).
    redirect_hosts: frozenset[str] = frozenset()
    # Real WeChat refuses to authorise outside its in-app browser ("请在微信客户端打开链接").
    require_wechat_ua: bool = False

    @classmethod
    def build(
        cls,
        appid: str,
        secret: str,
        default_openid: str,
        redirect_hosts: Iterable[str],
        require_wechat_ua: bool,
    ) -> MockConfig:
        hosts = frozenset(h.strip().lower().rstrip(".") for h in redirect_hosts)
        if not hosts or "" in hosts:
            raise ValueError("redirect_hosts needs at least one non-empty host")
        return cls(appid, secret, default_openid, hosts, require_wechat_ua)


class FaultQueue:
    """Queued error answers per endpoint ("the next 2 access_token calls answer -1 system busy")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: defaultdict[str, deque[int]] = defaultdict(deque)

    def push(self, endpoint: str, errcode: int, count: int) -> None:
        with self._lock:
            self._queues[endpoint].extend([errcode] * count)

    def take(self, endpoint: str) -> int | None:
        with self._lock:
            queue = self._queues.get(endpoint)
            return queue.popleft() if queue else None

    def clear(self) -> None:
        with self._lock:
            self._queues.clear()


@dataclass
class MockWeChat:
    config: MockConfig
    clock: AdjustableClock
    state: OAuthState = field(init=False)
    mp: OfficialAccountState = field(init=False)
    faults: FaultQueue = field(default_factory=FaultQueue)

    def __post_init__(self) -> None:
        self.state = OAuthState(clock=self.clock)
        self.mp = OfficialAccountState(clock=self.clock)


def current_mock() -> MockWeChat:
    mock = current_app.extensions[EXTENSION_KEY]
    assert isinstance(mock, MockWeChat)
    return mock
