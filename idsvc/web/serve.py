"""``idsvc serve``: gunicorn with gevent workers, so a waiting desktop costs a greenlet, not a thread.

A long-poll spends its 25-30 s waiting on an in-process event that the one Redis pub/sub listener
of its process sets; under gevent that wait is a parked greenlet (a few KB), so one process holds
thousands of waiting desktops.  Everything on the request path is cooperative once gevent has
patched the standard library: redis-py and requests use patched sockets, psycopg 3 (>= 3.1.14)
waits through gevent on its own.  The CPU-heavy video analysis does not run here but on queue
workers (``idsvc worker``), which is what keeps a gevent process responsive.

Slow clients: gunicorn reads each request line and headers under a ``keepalive``-second timeout
(half-open connections are dropped after it), and :class:`BodyReadTimeout` gives the body the same
kind of bound, so a slowloris body answers 408 within seconds instead of holding a connection.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

from idsvc.core.settings import Settings

# Seconds a client may stay silent while sending headers or a body.
CLIENT_IDLE_TIMEOUT = 5.0
# Long-polls hold a request up to 30 s; the worker heartbeat timeout must exceed that.
WORKER_TIMEOUT = 90

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class BodyReadTimeout:
    """WSGI middleware: reads of the request body time out after ``seconds`` of silence."""

    def __init__(self, app: WsgiApp, seconds: float = CLIENT_IDLE_TIMEOUT) -> None:
        self.app = app
        self.seconds = seconds

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        sock = environ.get("gunicorn.socket")
        if sock is not None:
            sock.settimeout(self.seconds)
        return self.app(environ, start_response)


def raise_fd_limit() -> int:
    """Each waiting desktop is an open socket: lift the soft limit on open files to the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
    return target


def run(settings: Settings, *, host: str, port: int, workers: int, connections: int) -> None:
    raise_fd_limit()
    # Every worker must sign with the same key: pin a generated one for the child processes.
    os.environ["IDSVC_SECRET_KEY"] = str(settings.secret_key)

    class _App(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": workers,
                "worker_class": "gevent",
                "worker_connections": connections,
                "keepalive": int(CLIENT_IDLE_TIMEOUT),
                "timeout": WORKER_TIMEOUT,
                "graceful_timeout": 10,
                "accesslog": None,
                "errorlog": "-",
                "loglevel": "warning",
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self) -> Any:
            from idsvc.web.app import create_app

            app = create_app(settings if workers == 1 else Settings.from_env())
            app.wsgi_app = BodyReadTimeout(app.wsgi_app)  # type: ignore[method-assign]
            return app

    _App().run()
