"""The public Python interface: an article in, a grounded record out, one at a time or many at once.

    >>> import extractor
    >>> record = extractor.extract("Ukraine asked the US to guarantee its security.")
    >>> [g.actor.code for p in record.proposals for g in p.guarantors]

With no server configured (no ``base_url`` argument, no ``OPENAI_BASE_URL``), the embedded model
server is started by the first request that needs the model (an article the rules settle alone
starts nothing), reused by every later call in the process, and stopped when the process exits
(or by :func:`close`). Settings are resolved as on the command line: keyword
arguments over ``EXTRACTOR_*`` / ``OPENAI_*`` environment variables over defaults.

Errors: :class:`~extractor.errors.ConfigError` (a setting or install is wrong) and
:class:`~extractor.errors.InputError` (an input cannot be read as an article) are raised; a model
failure on one article is recorded in that record's ``error`` field, as the command line does, so
a batch goes on. :class:`~extractor.errors.RunStopped` is raised when a budget stops the work,
or when the embedded server does not start.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from . import articles, embedded, grouping, pipeline, strategies
from .client import AsyncEngine, Engine
from .config import Settings, check_names, resolve
from .errors import InputError
from .report import fragment
from .schemas import ExtractionRecord

__all__ = ["Record", "aextract", "close", "events", "extract", "extract_many", "settings"]

ArticleLike = str | Path | articles.Article


class Record(ExtractionRecord):
    """One extraction record (the JSONL line), shown as highlighted HTML in Jupyter."""

    def _repr_html_(self) -> str:
        return fragment(self)


def settings(**options: Any) -> Settings:
    """The settings a call with these keyword arguments would use.

    Args:
        **options: any setting of the README's settings table (``config.Settings``) but the
            command line's own ``prices`` and ``cache_dir``: ``base_url``, ``model``,
            ``strategy``, ``timeout``...; an omitted one comes from its environment variable,
            else the default.

    Raises:
        TypeError: a keyword names no setting the Python interface takes.
        ConfigError: a value is malformed or unknown.
    """
    check_names(options, api=True)
    return resolve(**options)


class _Embedded:
    """The embedded server of this process: its address fixed on first use, the server started
    by the first request sent to it, stopped at exit."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stack: ExitStack | None = None
        self._urls: dict[str | None, str] = {}

    def url(self, gguf: str | None) -> str:
        with self._lock:
            if gguf not in self._urls:
                if self._stack is None:
                    self._stack = ExitStack()
                    atexit.register(self.close)
                self._urls[gguf] = self._stack.enter_context(embedded.serve(gguf, lazy=True))
            return self._urls[gguf]

    def close(self) -> None:
        with self._lock:
            if self._stack is not None:
                self._stack.close()
            self._stack, self._urls = None, {}


_EMBEDDED = _Embedded()


def close() -> None:
    """Stop the embedded server if this process started one (a later call starts it again)."""
    _EMBEDDED.close()


def _live(chosen: Settings) -> Settings:
    if chosen.embedded:
        return chosen.with_base_url(_EMBEDDED.url(chosen.gguf))
    return chosen


def _settings(given: Settings | None, options: dict[str, Any]) -> Settings:
    if given is not None and options:
        raise TypeError("pass either settings= or keyword settings, not both")
    return given if given is not None else settings(**options)


def _article(item: ArticleLike, source: str | None) -> articles.Article:
    """An input article from text, a file path, or an article already read."""
    if isinstance(item, articles.Article):
        return item
    if isinstance(item, Path):
        name = source or str(item)
        try:
            with item.open("rb") as handle:
                raw = articles.read_capped(handle, name)
        except OSError as exc:
            raise InputError(f"{name}: cannot be read ({exc.strerror}); check the path") from None
        return articles.parse(name, raw)
    return articles.parse(source or "-", item.encode("utf-8"))


def _record(record: ExtractionRecord) -> Record:
    return Record.model_construct(**dict(record))


def extract(
    article: ArticleLike,
    *,
    source: str | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> Record:
    """Extract one article into one record.

    Args:
        article: the article's text (a ``str``), a ``pathlib.Path`` to a ``.txt``, ``.md`` or
            ``.html`` file, or an :class:`extractor.articles.Article`.
        source: what the record's ``article.source`` says (default: the path, or ``"-"``).
        settings: settings from :func:`settings`; or give them as keyword arguments instead.
        **options: keyword settings, as for :func:`settings`.

    Returns:
        The record; a model failure is in ``record.error``, not raised.

    Raises:
        ConfigError: a setting is wrong or the server refuses every request (bad key, model).
        InputError: the input is empty, binary or too large.
        RunStopped: ``max_tokens_per_article`` or a budget stopped the article.
    """
    chosen = _settings(settings, options)
    item = _article(article, source)
    if not strategies.for_settings(chosen).needs_model:
        return _record(pipeline.extract(item, None, settings=chosen))
    engine = Engine(_live(chosen))
    try:
        return _record(pipeline.extract(item, engine))
    finally:
        engine.close()


def extract_many(
    items: Iterable[ArticleLike],
    *,
    concurrency: int = 4,
    settings: Settings | None = None,
    **options: Any,
) -> Iterator[Record]:
    """Extract many articles, ``concurrency`` in flight at once (on one event loop, through one
    engine), yielding records in input order.

    The input is consumed lazily, at most ``2 * concurrency`` articles ahead of the record
    yielded last, so a generator over a large corpus does not sit in memory whole.

    Raises:
        ConfigError, InputError, RunStopped: as :func:`extract`, when the article concerned
            comes up for its record.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    chosen = _settings(settings, options)
    if not strategies.for_settings(chosen).needs_model:
        for item in items:
            yield _record(pipeline.extract(_article(item, None), None, settings=chosen))
        return
    slots = asyncio.Semaphore(concurrency)
    engine: Engine | None = None

    async def one(item: ArticleLike, core: AsyncEngine) -> Record:
        async with slots:
            article = _article(item, None)
            return _record(await pipeline.aextract(article, core.article(article.id)))

    pending: deque[Future[Record]] = deque()
    try:
        for item in items:
            engine = engine or Engine(_live(chosen))
            pending.append(engine.submit(one(item, engine.core)))
            if len(pending) >= 2 * concurrency:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()
        if engine is not None:
            engine.close()


async def aextract(
    article: ArticleLike,
    *,
    source: str | None = None,
    settings: Settings | None = None,
    **options: Any,
) -> Record:
    """:func:`extract` for asyncio code: the requests are made on the caller's event loop, so
    many ``aextract`` calls gathered together are all in flight at once.

    Raises:
        As :func:`extract`.
    """
    chosen = _settings(settings, options)
    item = _article(article, source)
    if not strategies.for_settings(chosen).needs_model:
        return _record(pipeline.extract(item, None, settings=chosen))
    # Fixing the embedded server's address (the first call only) waits on a thread, not on the
    # loop; so does starting it, at the first request.
    engine = AsyncEngine(await asyncio.to_thread(_live, chosen))
    try:
        return _record(await pipeline.aextract(item, engine.article(item.id)))
    finally:
        await engine.aclose()


def events(records: Iterable[ExtractionRecord | dict[str, Any]]) -> list[dict[str, Any]]:
    """Group the proposals of ``records`` into events: the same proposal reported by several
    articles, each event with its reports (articles, dates, URLs, outlets), first and last
    seen, its guarantors with their report counts and positions over time, its response times
    and exclusions with their reports, and its disagreements (as ``extractor events`` writes
    them, one dict per event, earliest first).

    Args:
        records: records as :func:`extract` returns them, or their JSON objects (a line of the
            JSONL output, parsed). Of several records of one article the first counts.

    Raises:
        pydantic.ValidationError: a dict is not a record of this schema version.
    """
    parsed = [
        r if isinstance(r, ExtractionRecord) else ExtractionRecord.model_validate(r)
        for r in records
    ]
    return grouping.events(parsed)
