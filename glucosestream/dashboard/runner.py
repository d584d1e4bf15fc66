"""How a view runs its queries: away from the server's event loop, their results applied on the
document's next tick, so a slow query never blocks the event loop or another session."""

from __future__ import annotations

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
    """Production: the shared pool runs the query, the document's next tick applies it
    (``add_next_tick_callback`` is the thread-safe way into a session)."""

    def __init__(self, doc: Document, executor: Executor) -> None:
        self.doc = doc
        self.executor = executor

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
                result = future.result()
            except Exception as error:
                self.doc.add_next_tick_callback(partial(fail, error))
                return
            self.doc.add_next_tick_callback(partial(apply, result))

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
