"""The thread runner: queries off the event loop, results applied on the document's next tick."""

from __future__ import annotations

import pytest

from glucosestream.dashboard.runner import ThreadRunner


def test_thread_runner_queries_off_the_event_loop_and_applies_on_the_next_tick() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any

    class Session:
        """What the runner needs of a served document: a session and the next-tick queue."""

        session_context = object()

        def __init__(self) -> None:
            self.ticks: list[Any] = []
            self.queued = threading.Event()

        def add_next_tick_callback(self, callback: Any) -> None:
            self.ticks.append(callback)
            self.queued.set()

    doc = Session()
    release = threading.Event()
    worker: list[str] = []
    applied: list[int] = []

    def slow_query() -> int:
        worker.append(threading.current_thread().name)
        release.wait(5)
        return 42

    with ThreadPoolExecutor(1, thread_name_prefix="query") as pool:
        ThreadRunner(doc, pool).submit(slow_query, applied.append, pytest.fail)  # type: ignore[arg-type]
        assert applied == []  # submit returned while the query was still running
        release.set()
        assert doc.queued.wait(5)
    assert worker[0].startswith("query")
    assert applied == []  # nothing touched the document outside its next tick
    doc.ticks[0]()
    assert applied == [42]


def test_under_the_server_the_result_reaches_the_document_on_the_event_loop_thread() -> None:
    """Bokeh's current-document list is process-wide: only the loop's thread may queue on a
    document, or another session's script sees its document 'replaced'."""
    import asyncio
    import threading
    from concurrent.futures import ThreadPoolExecutor
    from typing import Any

    queued_on: list[str] = []

    class Session:
        session_context = object()

        def __init__(self) -> None:
            self.ticks: list[Any] = []

        def add_next_tick_callback(self, callback: Any) -> None:
            queued_on.append(threading.current_thread().name)
            self.ticks.append(callback)

    async def serve() -> Session:
        doc = Session()
        with ThreadPoolExecutor(1, thread_name_prefix="query") as pool:
            ThreadRunner(doc, pool).submit(lambda: 7, lambda _: None, pytest.fail)  # type: ignore[arg-type]
            for _ in range(200):
                if doc.ticks:
                    break
                await asyncio.sleep(0.01)
        return doc

    doc = asyncio.run(serve())
    assert len(doc.ticks) == 1
    assert queued_on == [threading.current_thread().name]  # the loop's thread, not "query"
