"""How a view runs its queries: away from the server's event loop, their results applied on the
document's next tick, so a slow query never blocks the event loop or another session."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Executor, Future
from functools import partial
from typing import Protocol, TypeVar

from bokeh.document import Document

T = TypeVar("T")


class Runner(Protocol):
    """Runs ``work`` away from the event loop and hands its result to ``apply`` on it."""

    def submit(
        self,
        work: Callable[[], T],
        apply: Callable[[T], None],
        fail: Callable[[Exception], None],
    ) -> None: ...


class ThreadRunner:
    """Production: the shared pool runs the query, the document's next tick applies it.

    The result is handed to the server's event loop first (``call_soon_threadsafe``), and only
    there queued on the document: ``add_next_tick_callback`` from a worker thread would push the
    document on Bokeh's process-wide "current document" list while the loop may be running
    another session's script, which then fails with "replaced the output document" (seen in
    CI when two sessions opened together).
    """

    def __init__(self, doc: Document, executor: Executor) -> None:
        self.doc = doc
        self.executor = executor
        try:
            self.loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # not under the server (tests): queue from the worker directly
            self.loop = None

    def _queue(self, callback: Callable[[], None]) -> None:
        if self.doc.session_context is not None:
            self.doc.add_next_tick_callback(callback)

    def submit(
        self,
        work: Callable[[], T],
        apply: Callable[[T], None],
        fail: Callable[[Exception], None],
    ) -> None:
        def done(future: Future[T]) -> None:
            if self.doc.session_context is None:
                return  # the page was closed while the query ran: nobody to show it to
            try:
                callback = partial(apply, future.result())
            except Exception as error:
                callback = partial(fail, error)
            if self.loop is None:
                self._queue(callback)
            else:
                self.loop.call_soon_threadsafe(self._queue, callback)

        self.executor.submit(work).add_done_callback(done)


class InlineRunner:
    """Tests and benchmarks: run and apply at once, in the caller's thread."""

    def submit(
        self,
        work: Callable[[], T],
        apply: Callable[[T], None],
        fail: Callable[[Exception], None],
    ) -> None:
        try:
            result = work()
        except Exception as error:
            fail(error)
            return
        apply(result)
