"""Shared fixtures: real Redis, a real SQL database, the app, live servers on loopback.

The database is a SQLite file per test by default; set ``IDSVC_TEST_DATABASE_URL`` (CI does,
to PostgreSQL) to run the same tests against another engine.  Redis is the real server at
``IDSVC_TEST_REDIS_URL`` (default ``redis://127.0.0.1:6379/15``); each test gets its own key
prefix, so tests never see each other's keys, and its keys are deleted afterwards.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis as redis_lib
from werkzeug.serving import make_server

from idsvc.core import apikeys
from idsvc.core.db import Member
from idsvc.core.errors import IdsvcError
from idsvc.core.services import Services, build_services
from idsvc.core.settings import Secret, Settings
from idsvc.web.app import create_app

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
REDIS_URL = os.environ.get("IDSVC_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
DATABASE_URL = os.environ.get("IDSVC_TEST_DATABASE_URL", "")
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def wechat_server() -> Iterator[str]:
    """The real mock WeChat, served over HTTP on a loopback port for the whole run."""
    import mock_wechat
    from mock_wechat.testing import serve_in_thread

    base, shutdown = serve_in_thread(mock_wechat.create_app("wx_test_appid", "test_secret"))
    yield base
    shutdown()


class _Dispatch:
    """A WSGI app whose target is set after the server has its port (public_url needs the port)."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def _server_socket() -> Iterator[tuple[str, _Dispatch]]:
    dispatch = _Dispatch()
    server = make_server("127.0.0.1", 0, dispatch, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.port}", dispatch
    server.shutdown()
    server.server_close()


def reset_database(url: str) -> None:
    """Drop every table (the migrations' ``alembic_version`` too): the next start migrates from empty."""
    from sqlalchemy import MetaData

    from idsvc.core.db import Database

    db = Database(url)
    existing = MetaData()
    existing.reflect(db.engine)
    existing.drop_all(db.engine)
    db.dispose()


_reset_database = reset_database


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per run; each test starts from a copy (migrating costs ~0.3 s)."""
    from idsvc.core import migrations
    from idsvc.core.db import Database

    path = tmp_path_factory.mktemp("schema") / "template.sqlite3"
    db = Database(f"sqlite:///{path}")
    migrations.upgrade(db)
    db.dispose()  # the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def settings(
    tmp_path: Path,
    _server_socket: tuple[str, _Dispatch],
    request: pytest.FixtureRequest,
    _sqlite_template: Path,
) -> Settings:
    url = DATABASE_URL or f"sqlite:///{tmp_path / 'idsvc.sqlite3'}"
    if DATABASE_URL:
        # Empty, then at head, like the SQLite template: a production-mode process refuses an empty one.
        from idsvc.core import migrations
        from idsvc.core.db import Database

        _reset_database(url)
        fresh = Database(url)
        migrations.upgrade(fresh)
        fresh.dispose()
    else:
        shutil.copyfile(_sqlite_template, tmp_path / "idsvc.sqlite3")
    base, _ = _server_socket
    overrides: dict[str, Any] = getattr(request, "param", {}) or {}
    marker = request.node.get_closest_marker("settings")
    if marker:
        overrides = {**overrides, **marker.kwargs}
    return Settings(
        env="test",
        secret_key=Secret("test-secret-" + uuid.uuid4().hex),
        secret_generated=False,
        database_url=url,
        redis_url=REDIS_URL,
        redis_prefix=f"idsvc-test-{uuid.uuid4().hex[:12]}",
        public_url=base,
        wechat_appid="wx_test_appid",
        wechat_secret=Secret("test_secret"),
        blob_dir=tmp_path / "blobs",
        log_level="WARNING",
    ).replace(**overrides)


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    svc = build_services(settings)
    yield svc
    try:
        client = svc.store.redis
        keys = list(client.scan_iter(f"{settings.redis_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    except (redis_lib.RedisError, IdsvcError):  # a test that points Redis at a dead port has nothing to clean
        pass
    svc.close()


@pytest.fixture
def app(settings: Settings, services: Services) -> Any:
    return create_app(settings, services=services)


@pytest.fixture
def client(app: Any) -> Any:
    return app.test_client()


@pytest.fixture
def live_server(app: Any, _server_socket: tuple[str, _Dispatch]) -> str:
    """The app served over real HTTP on loopback (its public_url)."""
    base, dispatch = _server_socket
    dispatch.app = app
    return base


@pytest.fixture
def make_key(services: Services) -> Callable[..., str]:
    """Create an API key; returns the bearer header value ``"Bearer idsvc_…"``."""

    def make(role: str = "platform", association: str | None = None, name: str | None = None) -> str:
        with services.db.session() as db:
            key = apikeys.create(db, name or f"test-{role}", role, association)
        return f"Bearer {key}"

    return make


@pytest.fixture
def platform_key(make_key: Callable[..., str]) -> str:
    return make_key("platform")


@pytest.fixture
def make_member(services: Services) -> Callable[..., Member]:
    def make(
        member_id: str = "m-1001",
        name: str = "张三",
        id_number: str = "110101199003078515",
        association: str = "11",
        *,
        id_record: bool = False,
    ) -> Member:
        """A member; ``id_record`` also files a placeholder reference face under its number, so a
        session can be confirmed (no real face matches it: tests that verify enrol a real one)."""
        from idsvc.core.db import IdRecord

        with services.db.session() as db:
            member = Member(member_id=member_id, name=name, id_number=id_number, association=association)
            db.add(member)
            if id_record:
                db.merge(IdRecord(id_number=id_number, name=name, encoding=bytes(8 * 128), source="test-placeholder"))
        return member

    return make


@pytest.fixture(scope="session")
def redis_client() -> redis_lib.Redis:
    client = redis_lib.Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        client.ping()
    except redis_lib.RedisError as exc:  # fail loudly: integration tests must not silently skip
        pytest.fail(f"Redis at {REDIS_URL} is not reachable: {exc}")
    return client


@pytest.fixture
def job_worker(app: Any, services: Services) -> Iterator[None]:
    """A queue worker in this process for the test's app (Dramatiq on the real Redis): uploaded
    videos are analysed the way `idsvc worker` does it."""
    from idsvc.core.jobs import DramatiqQueue, StoppableWorker

    queue = services.queue
    if not isinstance(queue, DramatiqQueue):
        yield
        return
    worker = StoppableWorker(queue, threads=1)
    worker.start()
    try:
        yield
    finally:
        worker.stop()
