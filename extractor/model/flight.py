"""A general concurrency helper: many items worked on at once on one event loop, each result
handed over as it comes (used by the runner, batch files and the Ray actors)."""

from __future__ import annotations

import asyncio
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
    before the error goes on."""
    running: set[asyncio.Future[Any]] = set()
    later = items if isinstance(items, AsyncIterator) else None
    pending = iter(()) if isinstance(items, AsyncIterator) else iter(items)
    coming: asyncio.Future[Any] | None = None  # the next item of an asynchronous source
    try:
        while True:
            for item in pending:
                running.add(asyncio.ensure_future(work(item)))
                if len(running) >= limit:
                    break
            if later is not None and coming is None and len(running) < limit:
                coming = asyncio.ensure_future(anext(later, _END))
            waiting = running if coming is None else running | {coming}
            if not waiting:
                return
            finished, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if coming is not None and coming in finished:
                finished.discard(coming)
                item, coming = coming.result(), None
                if item is _END:
                    later = None
                else:
                    running.add(asyncio.ensure_future(work(item)))
            running -= finished
            for task in finished:
                done(task.result())
    finally:
        if coming is not None:
            running.add(coming)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
