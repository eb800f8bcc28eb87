"""Short-lived state in Redis: namespaced keys, JSON values, TTLs, atomic compare-and-set.

Keys are ``{prefix}:{feature}:{kind}:{id}`` and are built only through :meth:`Store.key`.
Every key carries a TTL.  Transitions that can race (two phones scanning one QR) go through
:meth:`Store.update_json`, a WATCH/MULTI optimistic transaction: the loser re-reads the new
value and its ``mutate`` decides again, so exactly one writer wins.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import redis

from idsvc.core.errors import IdsvcError, store_unavailable

log = logging.getLogger(__name__)

Json = dict[str, Any]


REDIS_POOL_SIZE = 200
BREAKER_S = 5.0


def connect(url: str) -> redis.Redis:
    """A Redis client for ``url``; empty means an in-process fakeredis (development only)."""
    if not url:
        import fakeredis

        return fakeredis.FakeRedis(decode_responses=True)
    # Seconds, not the 35 s it was: a hung Redis must turn into a quick 503, not a stuck request.
    # Long-polls never block on a Redis call (they wait on an in-process event), so no command
    # needs longer.
    # A blocking pool: a burst (thousands of desktops arriving at once) waits up to 5 s for a
    # connection instead of failing with 503 the moment the pool is busy.
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=REDIS_POOL_SIZE,
        timeout=5,
        decode_responses=True,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=30,
    )
    return redis.Redis(connection_pool=pool)


class Store:
    def __init__(self, client: redis.Redis, prefix: str = "idsvc") -> None:
        self._client = client
        self.prefix = prefix
        self._open_until = 0.0

    # A circuit breaker: once Redis has failed to answer (refused, timed out), calls fail at once
    # for BREAKER_S seconds instead of each waiting out its own timeout, so a request that needs
    # Redis several times still answers 503 within seconds when Redis hangs.
    @property
    def redis(self) -> redis.Redis:
        if time.monotonic() < self._open_until:
            raise store_unavailable()
        return self._client

    def _trip(self, exc: Exception) -> IdsvcError:
        if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
            self._open_until = time.monotonic() + BREAKER_S
        return store_unavailable()

    def key(self, *parts: str) -> str:
        return ":".join((self.prefix, *parts))

    def channel(self, *parts: str) -> str:
        return self.key("events", *parts)

    def ping(self) -> None:
        self.redis.ping()

    def get_json(self, key: str) -> Json | None:
        try:
            raw = self.redis.get(key)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc
        return None if raw is None else json.loads(raw)

    def set_json(self, key: str, value: Json, ttl: int, *, only_if_new: bool = False) -> bool:
        try:
            return bool(self.redis.set(key, json.dumps(value, ensure_ascii=False), ex=ttl, nx=only_if_new))
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def set_once(self, key: str, value: str, ttl: int) -> str | None:
        """Atomically claim ``key``; returns None if we claimed it, else the value already there."""
        try:
            pipe = self.redis.pipeline()
            pipe.set(key, value, ex=ttl, nx=True)
            pipe.get(key)
            claimed, current = pipe.execute()
        except redis.RedisError as exc:
            raise self._trip(exc) from exc
        return None if claimed else current

    def take(self, key: str) -> str | None:
        """GETDEL: read and delete in one step, for single-use values."""
        try:
            value = self.redis.getdel(key)
            return None if value is None else str(value)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def update_json(
        self,
        key: str,
        mutate: Callable[[Json], Json | None],
        *,
        ttl: int | None = None,
        publish: str | None = None,
        durable: Callable[[Json, Json], AbstractContextManager[object]] | None = None,
    ) -> tuple[Json | None, bool]:
        """Atomically replace the JSON at ``key`` with ``mutate(current)``.

        ``mutate`` may raise (nothing is written) or return None (no change).  Returns the
        value now stored and whether this call changed it.  A message naming the new version
        goes to ``publish`` in the same transaction, so waiters never miss a change.  ``ttl``:
        a new TTL; the key keeps its own otherwise.  ``durable``: see :meth:`update_json_durably`.
        """
        try:
            with self.redis.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(key)  # type: ignore[no-untyped-call]
                        raw = pipe.get(key)
                        if raw is None:
                            pipe.unwatch()
                            return None, False
                        current = json.loads(raw)
                        new = mutate(dict(current))
                        if new is None:
                            pipe.unwatch()
                            return current, False
                        written = json.dumps(new, ensure_ascii=False)
                        executed = False
                        try:
                            with durable(current, new) if durable else nullcontext():
                                pipe.multi()
                                if ttl is None:
                                    pipe.set(key, written, keepttl=True)
                                else:
                                    pipe.set(key, written, ex=ttl)
                                if publish:
                                    pipe.publish(publish, json.dumps({"version": new.get("version")}))
                                pipe.execute()
                                executed = True
                        except BaseException:
                            if executed:  # the durable record failed after Redis changed: undo
                                self._put_back(key, written, raw if isinstance(raw, str) else raw.decode())
                            raise
                        return new, True
                    except redis.WatchError:
                        continue
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def put_blob(self, key: str, data: bytes, ttl: int) -> None:
        """Short-lived bytes (a phone video waiting for its worker), base64 in the text client."""
        try:
            self.redis.set(key, base64.b64encode(data).decode("ascii"), ex=ttl)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def get_blob(self, key: str) -> bytes | None:
        try:
            raw = self.redis.get(key)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc
        return None if raw is None else base64.b64decode(str(raw))

    def delete_quietly(self, key: str) -> None:
        """Delete ``key`` if Redis answers; its TTL removes it otherwise."""
        try:
            self.redis.delete(key)
        except (redis.RedisError, IdsvcError):
            log.warning("could not delete a short-lived key; its TTL will", extra={"fields": {"key": key}})

    def count_in_window(self, key: str, event_id: str, now: float, window_s: float, ttl: int) -> int:
        """Record one event at ``now`` and return how many fall within the last ``window_s``.

        A sorted set of (event id, time): concurrent callers each add their own member, so every
        event is counted; one MULTI transaction, so the count includes exactly what was added.
        """
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.zadd(key, {event_id: now})
            pipe.zremrangebyscore(key, "-inf", now - window_s)
            pipe.zcount(key, now - window_s, "+inf")
            pipe.expire(key, ttl)
            _, _, count, _ = pipe.execute()
            return int(count)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def read_many(
        self, json_key: str, zset_key: str, low: float, high: float, int_key: str
    ) -> tuple[Json | None, int, int]:
        """One round trip for a JSON value, a sorted-set count and a counter (the attempts view)."""
        try:
            pipe = self.redis.pipeline(transaction=False)
            pipe.get(json_key)
            pipe.zcount(zset_key, low, high)
            pipe.get(int_key)
            raw, count, counter = pipe.execute()
        except redis.RedisError as exc:
            raise self._trip(exc) from exc
        return (None if raw is None else json.loads(raw)), int(count), int(counter or 0)

    def count_range(self, key: str, low: float, high: float) -> int:
        """How many events of :meth:`count_in_window`'s set fall between ``low`` and ``high``."""
        try:
            return int(self.redis.zcount(key, low, high))
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def incr(self, key: str, ttl: int) -> int:
        """Add one to a counter that expires ``ttl`` seconds after its last increment."""
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.incr(key)
            pipe.expire(key, ttl)
            count, _ = pipe.execute()
            return int(count)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    @contextmanager
    def slots(self, limits: Mapping[str, int], ttl: int) -> Iterator[bool]:
        """Hold one concurrent slot under every key (``{key: limit}``) for the block; yields True
        only if every key was under its limit.  One round trip to take them and one to give them
        back, whatever their number.  The TTL frees slots a crashed process never returned."""
        keys = list(limits)
        try:
            pipe = self.redis.pipeline(transaction=True)
            for key in keys:
                pipe.incr(key)
                pipe.expire(key, ttl)
            counts = pipe.execute()[::2]
        except redis.RedisError as exc:
            raise self._trip(exc) from exc
        try:
            yield all(int(count) <= limits[key] for key, count in zip(keys, counts))
        finally:
            try:
                pipe = self.redis.pipeline(transaction=False)
                for key in keys:
                    pipe.decr(key)
                pipe.execute()
            except (redis.RedisError, IdsvcError):
                log.warning("could not return slots; their TTL will", extra={"fields": {"keys": keys}})

    def get_int(self, key: str) -> int:
        try:
            raw = self.redis.get(key)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc
        return int(raw) if raw else 0

    def delete(self, *keys: str) -> int:
        try:
            return int(self.redis.delete(*keys))
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def hit(self, key: str, window_seconds: int) -> int:
        """Count one event in a fixed window (rate limits); fails open if Redis is down."""
        try:
            pipe = self.redis.pipeline()
            pipe.incr(key)
            pipe.expire(key, window_seconds, nx=True)
            count, _ = pipe.execute()
            return int(count)
        except (redis.RedisError, IdsvcError) as exc:
            if isinstance(exc, redis.RedisError):
                self._trip(exc)
            log.warning("rate limiter unavailable; allowing request")
            return 0

    # -- atomic helpers added for the qr feature ---------------------------------------------------
    def get_str(self, key: str) -> str | None:
        try:
            value = self.redis.get(key)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc
        return None if value is None else str(value)

    def set_str(self, key: str, value: str, ttl: int) -> None:
        try:
            self.redis.set(key, value, ex=ttl)
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def add_to_set(self, key: str, member: str, ttl: int) -> None:
        """SADD and (re)set the set's TTL in one MULTI/EXEC, so the set never lives without a TTL."""
        try:
            pipe = self.redis.pipeline(transaction=True)
            pipe.sadd(key, member)
            pipe.expire(key, ttl)
            pipe.execute()
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def members(self, key: str) -> set[str]:
        try:
            return {str(m) for m in self.redis.smembers(key)}
        except redis.RedisError as exc:
            raise self._trip(exc) from exc

    def update_json_durably(
        self,
        key: str,
        mutate: Callable[[Json], Json | None],
        durable: Callable[[Json, Json], AbstractContextManager[object]],
        *,
        publish: str | None = None,
    ) -> tuple[Json | None, bool]:
        """:meth:`update_json` whose change is first made durable elsewhere (an SQL audit entry).

        ``durable(old, new)`` is a context manager entered before the Redis write and left after
        it: it writes its record on entry (e.g. opens an SQL transaction and inserts the audit
        entry) and commits on a clean exit, rolls back if the Redis write fails or loses the race
        (then ``mutate`` decides again).  If it cannot write (the database is locked or gone) it
        raises and Redis is not touched.  If its commit fails after Redis changed, the old value
        is put back (only if nobody changed it since), so Redis and the durable record agree.
        The key keeps its TTL.
        """
        return self.update_json(key, mutate, publish=publish, durable=durable)

    def _put_back(self, key: str, written: str, previous: str) -> None:
        """Restore ``previous`` at ``key`` if it still holds ``written`` (best effort, logged)."""
        try:
            with self.redis.pipeline() as pipe:
                pipe.watch(key)  # type: ignore[no-untyped-call]
                if pipe.get(key) != written:
                    pipe.unwatch()
                    log.error("could not undo a change whose durable record failed: %s changed since", key)
                    return
                pipe.multi()
                pipe.set(key, previous, keepttl=True)
                pipe.execute()
        except redis.RedisError:
            log.exception("could not undo a change whose durable record failed: %s", key)
