"""Background jobs: the Dramatiq transport on the real Redis and the in-process pool run the same
handler with the same arguments; a queue that is down answers 503."""

from __future__ import annotations

import threading
import uuid

import pytest

from idsvc.core.errors import IdsvcError
from idsvc.core.jobs import DramatiqQueue, InProcessQueue, StoppableWorker
from tests.conftest import REDIS_URL

pytestmark = pytest.mark.integration


def test_dramatiq_queue_runs_registered_handlers_on_a_worker() -> None:
    queue = DramatiqQueue(REDIS_URL, f"idsvc-test-{uuid.uuid4().hex[:8]}:jobs")
    got: list[dict[str, object]] = []
    done = threading.Event()

    def handler(session_id: str, attempt: int) -> None:
        got.append({"session_id": session_id, "attempt": attempt})
        done.set()

    queue.register("test.job", handler)
    worker = StoppableWorker(queue)
    worker.start()
    try:
        queue.enqueue("test.job", session_id="s-1", attempt=2)
        assert done.wait(30)
    finally:
        worker.stop()
        queue.close()
    assert got == [{"session_id": "s-1", "attempt": 2}]


def test_in_process_queue_runs_the_same_handler() -> None:
    queue = InProcessQueue()
    done = threading.Event()
    got: list[tuple[str, int]] = []

    def handler(session_id: str, attempt: int) -> None:
        got.append((session_id, attempt))
        done.set()

    queue.register("test.job", handler)
    queue.enqueue("test.job", session_id="s-1", attempt=1)
    assert done.wait(10)
    queue.close()
    assert got == [("s-1", 1)]


def test_a_queue_that_is_down_answers_503() -> None:
    queue = DramatiqQueue("redis://127.0.0.1:1/0", "down:jobs")
    queue.register("test.job", lambda **_: None)
    with pytest.raises(IdsvcError) as exc:
        queue.enqueue("test.job", session_id="s")
    assert (exc.value.status, exc.value.code) == (503, "store_unavailable")
