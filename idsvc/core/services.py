"""The collaborators a process builds once: settings, SQL, Redis, blobs, notifier.

Plain Python: the web layer keeps one :class:`Services` per app, the CLI one per process
(:func:`from_env`), and feature services receive what they need from it in their constructors.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import redis

from idsvc.core import migrations
from idsvc.core.blobs import BlobStore
from idsvc.core.clock import Clock, SystemClock
from idsvc.core.db import Database
from idsvc.core.events import Notifier
from idsvc.core.jobs import JobQueue, make_queue
from idsvc.core.settings import Settings
from idsvc.core.store import Store, connect


@dataclass
class Services:
    settings: Settings
    db: Database
    store: Store
    blobs: BlobStore
    notifier: Notifier
    clock: Clock
    queue: JobQueue

    @property
    def redis(self) -> redis.Redis:
        return self.store.redis

    def close(self) -> None:
        self.notifier.stop()
        self.queue.close()
        self.db.dispose()


def build_services(settings: Settings, *, clock: Clock | None = None, job_consumer: bool = False) -> Services:
    """Build everything; the schema is upgraded first in development and test, and must already be
    current in production (:class:`idsvc.core.migrations.SchemaBehind` names the command to run)."""
    db = Database(settings.database_url, audit_key=settings.audit_signing_key())
    try:
        migrations.prepare(db, auto_upgrade=not settings.production)
    except BaseException:
        db.dispose()
        raise
    client = connect(settings.redis_url)
    store = Store(client, settings.redis_prefix)
    return Services(
        settings=settings,
        db=db,
        store=store,
        blobs=BlobStore(settings.blob_dir),
        notifier=Notifier(client, store.channel("*")),
        clock=clock or SystemClock(),
        queue=make_queue(settings.redis_url, settings.redis_prefix, consumer=job_consumer),
    )


@cache
def from_env() -> Services:
    """Services built from the environment, once per process (the CLI's entry point)."""
    return build_services(Settings.from_env())
