"""The synchronous engine: ``Engine`` runs an ``AsyncEngine`` on an event
loop of its own (a daemon thread) for synchronous callers, the runner that
``strategies.run_sync`` waits on. It holds no logic of its own; there is one implementation of
the retries, re-asks and budgets, the asynchronous one."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx2

from ..config import Settings
from ..core.answers import Meter, Outcome
from ..core.prompting import Message
from ..schemas import ArticleDraft
from .client import AsyncEngine
from .spending import RateLimiter, Spend
from .transport import Breaker

T = TypeVar("T")


class _Loop:
    """An event loop running on a daemon thread of its own, stopped when closed or when its
    owner is collected."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        thread = threading.Thread(
            target=self.loop.run_forever, name="extractor-engine", daemon=True
        )
        thread.start()
        self._finalizer = weakref.finalize(self, _stop, self.loop, thread)

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future = self.submit(coroutine)
        try:
            return future.result()
        except BaseException:
            future.cancel()  # interrupted: the work goes no further
            raise

    def close(self) -> None:
        self._finalizer()


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    if loop.is_closed():
        return

    async def cancel_the_rest() -> None:
        rest = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in rest:
            task.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    if thread is threading.current_thread():
        loop.call_soon(loop.stop)  # collected on its own thread: it stops, unclosed
        return
    with contextlib.suppress(concurrent.futures.TimeoutError):  # work that will not end
        asyncio.run_coroutine_threadsafe(cancel_the_rest(), loop).result(timeout=10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


class Engine:
    """The engine for synchronous callers: an ``AsyncEngine`` on an event loop of its own,
    asking for one article at a time (``start_article``). Thread-safe for ``submit`` and
    ``run``; ``asker``, ``extract`` and ``last_meter`` are the current article's."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx2.AsyncClient | None = None,
        sleep: Callable[[float], None] | None = None,
        limiter: RateLimiter | None = None,
        spend: Spend | None = None,
        breaker: Breaker | None = None,
        revive: Callable[[], bool] | None = None,
    ) -> None:
        """Arguments as for ``AsyncEngine``; ``sleep`` is a plain function here.

        Raises:
            ConfigError: no ``base_url``.
        """
        self.core = AsyncEngine(
            settings,
            http_client=http_client,
            sleep=_awaitable(sleep) if sleep is not None else None,
            limiter=limiter,
            spend=spend,
            breaker=breaker,
            revive=revive,
        )
        self.settings = settings
        self.mode = self.core.mode
        self.asker = self.core.article()
        self._loop = _Loop()

    def close(self) -> None:
        """Close the client and stop the loop (work still on it is cancelled)."""
        if not self._loop.loop.is_closed():
            self.run(self.core.aclose())
        self._loop.close()

    def submit(self, coroutine: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Run ``coroutine`` on the engine's loop; its future."""
        return self._loop.submit(coroutine)

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the engine's loop and wait for its result."""
        return self._loop.run(coroutine)

    @property
    def last_meter(self) -> Meter:
        """Requests and tokens since ``start_article()``, failed ones included."""
        return self.asker.meter

    def start_article(self, article_id: str = "") -> None:
        """Start counting requests, tokens and the retry budget for a new article (its id goes
        into the request log)."""
        self.asker = self.core.article(article_id)

    def extract(self, messages: list[Message], text: str) -> Outcome[ArticleDraft]:
        """``ArticleAsker.extract`` for the current article."""
        return self.run(self.asker.extract(messages, text))


def _awaitable(sleep: Callable[[float], None]) -> Callable[[float], Awaitable[None]]:
    async def pause(seconds: float) -> None:
        sleep(seconds)

    return pause
