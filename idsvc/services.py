"""The collaborators a process builds once: settings, SQL, Redis, blobs, notifier."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app

from idsvc.blobs import BlobStore
from idsvc.config import Settings
from idsvc.db import Database
from idsvc.events import Notifier
from idsvc.store import Store, connect


@dataclass
class Services:
    settings: Settings
    db: Database
    store: Store
    blobs: BlobStore
    notifier: Notifier

    @property
    def redis(self):  # noqa: ANN201 - redis.Redis
        return self.store.redis

    def close(self) -> None:
        self.notifier.stop()
        self.db.dispose()


def build_services(settings: Settings) -> Services:
    db = Database(settings.database_url)
    db.create_all()
    client = connect(settings.redis_url)
    store = Store(client, settings.redis_prefix)
    return Services(
        settings=settings,
        db=db,
        store=store,
        blobs=BlobStore(settings.blob_dir),
        notifier=Notifier(client, store.channel("*")),
    )


def services() -> Services:
    """The current app's services (inside a request or app context)."""
    return current_app.extensions["idsvc"]  # type: ignore[no-any-return]
