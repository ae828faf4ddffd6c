"""A general concurrency helper: many items worked on at once on one event loop, each result
handed over as it comes (used by the runner, batch files and the Ray actors)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_END = object()  # what an asynchronous source gives once it has no more items


async def in_flight(
    items: Iterable[T] | AsyncIterator[T],
    limit: int,
    work: Callable[[T], Awaitable[R]],
    done: Callable[[R], None],
) -> None:
    """``work`` on every item, ``limit`` at a time, the items taken as room frees up; ``done``
    gets each result as it finishes, in any order. The items may come asynchronously (fed from
    another thread, say): the next is awaited while the work in flight goes on. When ``work``
    or ``done`` raises, or this is cancelled, the work in flight is cancelled and waited for
    before the error goes on.

    Finished work is collected as it lands (a callback each) rather than by waiting on all of
    it at every turn, so a turn costs the same with ten or a thousand items in flight."""
    running: set[asyncio.Future[Any]] = set()
    landed: deque[asyncio.Future[Any]] = deque()
    wake = asyncio.Event()

    def land(task: asyncio.Future[Any]) -> None:
        landed.append(task)
        wake.set()

    def start(item: Any) -> None:
        task = asyncio.ensure_future(work(item))
        task.add_done_callback(land)
        running.add(task)

    later = items if isinstance(items, AsyncIterator) else None
    pending = iter(()) if isinstance(items, AsyncIterator) else iter(items)
    coming: asyncio.Future[Any] | None = None  # the next item of an asynchronous source
    try:
        while True:
            for item in pending:
                start(item)
                if len(running) >= limit:
                    break
            if later is not None and coming is None and len(running) < limit:
                coming = asyncio.ensure_future(anext(later, _END))
                coming.add_done_callback(lambda _: wake.set())
            if not running and coming is None:
                return
            wake.clear()
            if not landed and (coming is None or not coming.done()):
                await wake.wait()
            if coming is not None and coming.done():
                item, coming = coming.result(), None
                if item is _END:
                    later = None
                else:
                    start(item)
            while landed:
                task = landed.popleft()
                running.discard(task)
                done(task.result())
    finally:
        if coming is not None:
            running.add(coming)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
