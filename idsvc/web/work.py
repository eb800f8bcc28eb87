"""``idsvc worker``: processes that take jobs from the Redis queue (see idsvc/core/jobs.py).

Each process builds the app once (so every feature registers its job handlers exactly as in a web
process), warms its models through the ``worker_starting`` signal (the face models load once per
process, never per job), then consumes jobs until SIGTERM/SIGINT.  N processes use N cores.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
from types import FrameType

from idsvc.core import signals
from idsvc.core.jobs import DramatiqQueue, StoppableWorker
from idsvc.core.services import Services
from idsvc.core.settings import Settings
from idsvc.webkit.context import SERVICES_KEY

log = logging.getLogger(__name__)


def _serve_jobs(settings: Settings, threads: int, nice: int = 0) -> None:
    from idsvc.core.services import build_services
    from idsvc.web.app import create_app

    if nice:
        # Analysis is CPU-bound and can wait a moment; a web tier on the same machine cannot.
        os.nice(nice)

    app = create_app(settings, services=build_services(settings, job_consumer=True))
    services: Services = app.extensions[SERVICES_KEY]
    queue = services.queue
    if not isinstance(queue, DramatiqQueue):
        raise SystemExit("idsvc worker needs a Redis queue (IDSVC_REDIS_URL)")
    signals.worker_starting.send(services)
    worker = StoppableWorker(queue, threads)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.start()
    log.warning("worker ready", extra={"fields": {"threads": threads}})
    done.wait()
    worker.stop()
    services.close()


def run(settings: Settings, *, processes: int, threads: int, nice: int = 0) -> None:
    if processes == 1:
        _serve_jobs(settings, threads, nice)
        return
    ctx = multiprocessing.get_context("spawn")
    children = [ctx.Process(target=_serve_jobs, args=(settings, threads, nice), daemon=False) for _ in range(processes)]
    for child in children:
        child.start()

    def _forward(signum: int, frame: FrameType | None) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGINT, _forward)
    for child in children:
        child.join()
