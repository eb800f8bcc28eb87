"""Background jobs: Dramatiq on Redis in production, an in-process pool when there is no Redis.

Why Dramatiq: it is a well-kept, Redis-backed queue whose broker acknowledges a message only when
its job returns, and re-delivers the messages of a worker that died (heartbeats), so a killed
analysis is retried by another worker instead of being lost; workers are long-lived processes, so
the face models load once per process (RQ forks a process per job; Celery is far larger than we
need).

Features register job handlers by name (``queue.register("qr.verify_video", handler)``); web code
enqueues by name with JSON-serialisable keyword arguments.  Both transports call the same handler
with the same arguments, so ``make run`` (no Redis: :class:`InProcessQueue`) exercises the code
path that production workers run (:class:`DramatiqQueue`, ``idsvc worker``).  Handlers must be
idempotent: a message can be delivered twice.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

from idsvc.core.errors import store_unavailable

log = logging.getLogger(__name__)

Handler = Callable[..., None]

QUEUE_NAME = "idsvc"
# A job that runs longer than this is killed by the worker (the session's own watchdog then
# fails the attempt as analysis_error).
JOB_TIME_LIMIT_MS = 120_000


class JobQueue(Protocol):
    def register(self, name: str, handler: Handler) -> None: ...

    def enqueue(self, name: str, **kwargs: Any) -> None: ...

    def close(self) -> None: ...


class InProcessQueue:
    """Jobs on a small thread pool inside this process (development: ``make run`` without Redis)."""

    def __init__(self, workers: int = 2) -> None:
        self._handlers: dict[str, Handler] = {}
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="idsvc-job")

    def register(self, name: str, handler: Handler) -> None:
        self._handlers[name] = handler

    def enqueue(self, name: str, **kwargs: Any) -> None:
        handler = self._handlers[name]
        self._pool.submit(_run_logged, name, handler, kwargs)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _run_logged(name: str, handler: Handler, kwargs: dict[str, Any]) -> None:
    try:
        handler(**kwargs)
    except Exception:
        log.exception("job failed", extra={"fields": {"job": name}})


class DramatiqQueue:
    """Jobs on a Dramatiq Redis broker; ``idsvc worker`` processes consume them."""

    def __init__(
        self,
        url: str,
        namespace: str,
        *,
        consumer: bool = False,
        heartbeat_timeout_ms: int = 30_000,
        maintenance_chance: int = 1000,
    ) -> None:
        # A web process only sends: it gets no middleware.  Dramatiq's shutdown and time-limit
        # middleware pick their gevent or thread flavour when first imported, and a web process
        # imports them before gunicorn's gevent worker patches the standard library; the worker
        # process (`consumer`) runs them, with the actor options they define.
        self.consumer = consumer
        self.broker = RedisBroker(  # type: ignore[no-untyped-call]
            url=url,
            namespace=namespace,
            middleware=None if consumer else [],
            heartbeat_timeout=heartbeat_timeout_ms,
            maintenance_chance=maintenance_chance,
            socket_timeout=5,
        )
        self._actors: dict[str, dramatiq.Actor[..., None]] = {}

    def register(self, name: str, handler: Handler) -> None:
        self._actors[name] = dramatiq.Actor(
            handler,
            broker=self.broker,
            actor_name=name,
            queue_name=QUEUE_NAME,
            priority=0,
            # The handler decides failures itself (it records them on the session); retrying a
            # crashed analysis is the broker's re-delivery, not Dramatiq's retry loop.
            options={"max_retries": 0, "time_limit": JOB_TIME_LIMIT_MS} if self.consumer else {},
        )

    def enqueue(self, name: str, **kwargs: Any) -> None:
        try:
            self._actors[name].send(**kwargs)
        except (redis.RedisError, dramatiq.errors.BrokerConnectionError) as exc:
            raise store_unavailable() from exc

    def worker(self, threads: int = 1) -> dramatiq.Worker:
        """A consumer of this queue's jobs, in this process (start() it; stop() to end)."""
        return dramatiq.Worker(self.broker, queues={QUEUE_NAME}, worker_threads=threads, worker_timeout=200)

    def close(self) -> None:
        self.broker.close()


def make_queue(redis_url: str, prefix: str, *, consumer: bool = False, **options: Any) -> JobQueue:
    """Dramatiq on ``redis_url`` (``consumer``: this process runs jobs), or the in-process pool
    when there is no Redis server."""
    if not redis_url:
        return InProcessQueue()
    return DramatiqQueue(redis_url, f"{prefix}:jobs", consumer=consumer, **options)


class StoppableWorker:
    """Runs a DramatiqQueue's worker until :meth:`stop` (used by ``idsvc worker`` and tests)."""

    def __init__(self, queue: DramatiqQueue, threads: int = 1) -> None:
        self._worker = queue.worker(threads)
        self._stopped = threading.Event()

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        if not self._stopped.is_set():
            self._stopped.set()
            self._worker.stop()
