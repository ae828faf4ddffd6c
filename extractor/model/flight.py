"""A general concurrency helper: many items worked on at once on one event loop, each result
handed over as it comes (used by the runner, batch files and the Ray actors)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def in_flight(
    items: Iterable[T],
    limit: int,
    work: Callable[[T], Awaitable[R]],
    done: Callable[[R], None],
) -> None:
    """``work`` on every item, ``limit`` at a time, the items taken as room frees up; ``done``
    gets each result as it finishes, in any order. When ``work`` or ``done`` raises, or this is
    cancelled, the work in flight is cancelled and waited for before the error goes on."""
    running: set[asyncio.Future[R]] = set()
    pending = iter(items)
    try:
        while True:
            for item in pending:
                running.add(asyncio.ensure_future(work(item)))
                if len(running) >= limit:
                    break
            if not running:
                return
            finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in finished:
                done(task.result())
    finally:
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
