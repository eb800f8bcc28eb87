"""Wake long-polling requests when a session changes, without busy-waiting.

One background thread per process holds a single Redis pub/sub subscription to the pattern
``{prefix}:events:*`` and sets a :class:`threading.Event` for every request waiting on that
channel.  So a thousand open long-polls cost a thousand sleeping threads and one Redis
connection, not a thousand connections or a polling loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager

import redis

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, client: redis.Redis, pattern: str) -> None:
        self._client = client
        self._pattern = pattern
        self._waiters: dict[str, set[threading.Event]] = defaultdict(set)
        self._lock = threading.Lock()
        self._started = False
        self._ready = threading.Event()
        self._stop = threading.Event()

    def _ensure_started(self) -> None:
        with self._lock:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._run, name="idsvc-notifier", daemon=True).start()
        # Subscribing takes a round trip; a waiter registered before it completes could miss
        # a message, so the first caller waits for it (callers re-read state anyway).
        self._ready.wait(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
            try:
                pubsub.psubscribe(self._pattern)
                self._ready.set()
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message and message.get("type") == "pmessage":
                        self._wake(str(message["channel"]))
            except redis.RedisError as exc:
                log.warning("notifier lost Redis (%s); reconnecting", type(exc).__name__)
                # Wake everyone so they re-read state rather than sleep through a missed change.
                self._wake_all()
                time.sleep(0.5)
            finally:
                try:
                    pubsub.close()
                except Exception:  # noqa: BLE001 - closing a broken connection may fail too
                    pass

    def _wake(self, channel: str) -> None:
        with self._lock:
            waiters = list(self._waiters.get(channel, ()))
        for event in waiters:
            event.set()

    def _wake_all(self) -> None:
        with self._lock:
            waiters = [e for events in self._waiters.values() for e in events]
        for event in waiters:
            event.set()

    @contextmanager
    def listen(self, channel: str) -> Iterator[threading.Event]:
        """Register interest in ``channel``; the yielded event is set when a message arrives.

        Register *before* re-reading the state you wait on, so a change between the read and
        the wait still wakes you.
        """
        self._ensure_started()
        event = threading.Event()
        with self._lock:
            self._waiters[channel].add(event)
        try:
            yield event
        finally:
            with self._lock:
                waiters = self._waiters.get(channel)
                if waiters is not None:
                    waiters.discard(event)
                    if not waiters:
                        del self._waiters[channel]

    def stop(self) -> None:
        self._stop.set()
