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
import importlib.util
import threading
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from .config import Settings, check_names, resolve
from .errors import ConfigError, InputError, RunStopped
from .io import articles
from .model import embedded
from .model.client import AsyncEngine
from .model.sync import Engine
from .outputs import export, grouping
from .outputs.report import fragment
from .runs import pipeline, runner
from .runs.cache import RecordCache
from .runs.cache import key as cache_key
from .runs.method import RunMethod, resolve_method
from .schemas import ExtractionRecord

__all__ = [
    "Record",
    "aextract",
    "close",
    "events",
    "extract",
    "extract_many",
    "settings",
    "to_arrow",
    "to_pandas",
]

ArticleLike = str | Path | articles.Article


class Record(ExtractionRecord):
    """One extraction record (the JSONL line), shown as highlighted HTML in Jupyter and as a
    few lines in a REPL: the source, each proposal with its proposer and guarantors, the error.

    ``repr`` and ``str`` leave out the text and the evidence (the record itself holds them), so a
    list of records reads at a glance; ``record.model_dump_json()`` is the whole record.
    """

    def _repr_html_(self) -> str:
        return fragment(self)

    def __repr__(self) -> str:
        return "\n".join(summary_lines(self))

    __str__ = __repr__


def summary_lines(record: ExtractionRecord, most: int = 5) -> list[str]:
    """A record in a few lines: its source and title, its first ``most`` proposals with their
    proposers (``GBR+FRA`` for a joint one), guarantors (code, else name) and response time, how
    many values were dropped, and its error."""

    def party(actor: object) -> str:
        code, name = getattr(actor, "code", None), getattr(actor, "name", None)
        return str(code or name or "-")

    counts = f"{len(record.proposals)} proposal{'' if len(record.proposals) == 1 else 's'}"
    if record.dropped:
        counts += f", {len(record.dropped)} dropped"
    title = f" {record.article.title[:60]!r}" if record.article.title else ""
    lines = [f"<Record {record.article.source}{title}: {counts}>"]
    for number, proposal in enumerate(record.proposals[:most], start=1):
        guarantors = ", ".join(party(g.actor) for g in proposal.guarantors) or "none"
        proposers = "+".join(party(p) for p in [proposal.proposer, *proposal.co_proposers])
        line = f"  {number}. {proposers} -> guarantors {guarantors}"
        hours = [t.hours for t in proposal.response_times if t.hours is not None]
        if hours:
            line += "; within " + ", ".join(f"{h:g} h" for h in hours)
        lines.append(line)
    if len(record.proposals) > most:
        lines.append(f"  … {len(record.proposals) - most} more")
    if record.error is not None:
        lines.append(f"  error: {record.error.type}: {record.error.message[:200]}")
    return lines


def settings(**options: Any) -> Settings:
    """The settings a call with these keyword arguments would use.

    Args:
        **options: any setting of the README's settings table (``config.Settings``) but the
            command line's own ``prices``: ``base_url``, ``model``, ``cache_dir``,
            ``strategy``, ``timeout``...; an omitted one comes from its environment variable,
            else the default.

    Raises:
        TypeError: a keyword names no setting the Python interface takes.
        ConfigError: a value is malformed or unknown.
    """
    check_names(options, api=True)
    return resolve(**options)


def close() -> None:
    """Stop the embedded server if this process started one (a later call starts it again)."""
    embedded.close_shared()


def _settings(given: Settings | None, options: dict[str, Any]) -> Settings:
    if given is not None and options:
        raise TypeError("pass either settings= or keyword settings, not both")
    return given if given is not None else settings(**options)


def _names_a_file(text: str) -> Path | None:
    """The file a ``str`` names, when it is one line naming an existing file; None for text.

    Raises:
        InputError: one line that ends like an article file (``.txt``, ``.md``, ``.html``) but
            names no file: most likely a mistyped path, which read as text finds nothing.
    """
    if "\n" in text or len(text) > 4096 or not text.strip():
        return None
    candidate = Path(text.strip()).expanduser()
    try:
        if candidate.is_file():
            return candidate
    except OSError:  # a name too long for the filesystem, say: text
        return None
    if candidate.suffix.lower() in articles.SUFFIXES and " " not in candidate.name:
        raise InputError(
            f"{text.strip()}: no such file; pass an article's text, or Path(...) for a file"
        )
    return None


def _article(item: ArticleLike, source: str | None) -> articles.Article:
    """An input article from text, a file path (a ``Path``, or a ``str`` of one line naming an
    existing file), or an article already read."""
    if isinstance(item, articles.Article):
        return item
    if isinstance(item, str):
        item = _names_a_file(item) or item
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


class _Cache:
    """The record cache as the command line uses it (``runner.triage``): an error-free record
    of the same article under the same settings is served from it, and every error-free record
    made is stored. ``use`` False neither reads nor writes it."""

    def __init__(self, method: RunMethod, use: bool) -> None:
        self.method = method
        self.store = RecordCache(method.settings.cache_dir) if use else None

    def get(self, item: articles.Article) -> Record | None:
        if self.store is None:
            return None
        hit = self.store.get(cache_key(item.id, self.method), item.id)
        if hit is None:
            return None
        article = hit.article.model_copy(update={"source": item.source})
        return _record(hit.model_copy(update={"article": article}))

    def at_once(self, item: articles.Article) -> Record | None:
        """``item``'s record when it takes no request: served from the cache, or made at once
        by a method that asks no model; None when the model has to be asked."""
        hit = self.get(item)
        if hit is not None or self.method.needs_model:
            return hit
        return self.put(_record(pipeline.extract(item, None, method=self.method)))

    def put(self, record: Record) -> Record:
        if self.store is not None:
            self.store.put(cache_key(record.article.id, self.method), record)
        return record

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


def _call(
    article: ArticleLike,
    source: str | None,
    settings: Settings | None,
    options: dict[str, Any],
    cache: bool,
) -> tuple[articles.Article, RunMethod, _Cache]:
    """What one call of :func:`extract` or :func:`aextract` starts from: its article, its
    method (resolved once, here) and the record cache it reads.

    Raises:
        ConfigError: a setting is wrong, or no server is named for a model the embedded
            server does not serve.
        InputError: the input cannot be read.
    """
    chosen = _settings(settings, options)
    item = _article(article, source)
    method = resolve_method(chosen)
    if method.needs_model and chosen.embedded:
        embedded.check_served(chosen)
    return item, method, _Cache(method, cache)


def extract(
    article: ArticleLike,
    *,
    source: str | None = None,
    settings: Settings | None = None,
    cache: bool = True,
    **options: Any,
) -> Record:
    """Extract one article into one record.

    Args:
        article: the article's text (a ``str``), a file: a ``pathlib.Path`` to a ``.txt``,
            ``.md`` or ``.html`` file, or a one-line ``str`` naming an existing one (a one-line
            ``str`` ending in such a suffix that names no file is refused), or an
            :class:`extractor.io.articles.Article`.
        source: what the record's ``article.source`` says (default: the path, or ``"-"``).
        settings: settings from :func:`settings`; or give them as keyword arguments instead.
        cache: serve a record from the record cache (``cache_dir``) when it holds one of the
            same article under the same settings, and store each error-free record made, as
            the command line does; False neither reads nor writes it (``--no-cache``).
        **options: keyword settings, as for :func:`settings`.

    Returns:
        The record; a model failure is in ``record.error``, not raised.

    Raises:
        ConfigError: a setting is wrong, no server is named for a model the embedded server
            does not serve, or the server refuses every request (bad key, model).
        InputError: the input is empty, binary or too large, or names no file.
        RunStopped: ``max_tokens_per_article`` or a budget stopped the article.
    """
    item, method, store = _call(article, source, settings, options, cache)
    try:
        if (done := store.at_once(item)) is not None:
            return done
        engine = Engine(embedded.shared(method.settings))
        try:
            return store.put(_record(pipeline.extract(item, engine, method=method)))
        finally:
            engine.close()
    finally:
        store.close()


class _Many:
    """The articles of one :func:`extract_many` call, each given a future of its record as it
    is read: at once when it takes no request (``_Cache.at_once``), else from the runner's
    loop of articles in flight (``runner.extract_each``, as a run of the command line), on one
    engine started with the first article that needs the model."""

    def __init__(self, method: RunMethod, store: _Cache, concurrency: int) -> None:
        self.method, self.store, self.concurrency = method, store, concurrency
        self._engine: Engine | None = None
        self._feed: asyncio.Queue[tuple[int, articles.Article] | None] = asyncio.Queue()
        self._run: Future[None] | None = None
        self._lock = threading.Lock()  # the futures waiting, between this thread and the loop's
        self._waiting: dict[int, Future[Record]] = {}
        self._ended_by: BaseException | None = None
        self._count = 0

    def record(self, item: ArticleLike) -> Future[Record]:
        """The future of ``item``'s record; what reading it raised is raised by the future,
        when the article comes up for its record."""
        future: Future[Record] = Future()
        try:
            article = _article(item, None)
            done = self.store.at_once(article)
        except Exception as exc:
            future.set_exception(exc)
            return future
        if done is not None:
            future.set_result(done)
            return future
        engine = self._engine or self._start()
        with self._lock:
            if self._ended_by is not None:
                future.set_exception(self._ended_by)
                return future
            self._count += 1
            index = self._count
            self._waiting[index] = future
        engine.submit(self._put((index, article)))
        return future

    def _start(self) -> Engine:
        self._engine = engine = Engine(embedded.shared(self.method.settings))
        work = runner.extract_each(
            self._fed(), self.method, engine.core, self.concurrency, self._finish
        )
        self._run = engine.submit(work)
        self._run.add_done_callback(self._ended)
        return engine

    async def _put(self, item: tuple[int, articles.Article] | None) -> None:
        self._feed.put_nowait(item)

    async def _fed(self) -> AsyncIterator[tuple[int, articles.Article]]:
        while (item := await self._feed.get()) is not None:
            yield item

    def _finish(self, outcome: runner.Outcome) -> None:
        with self._lock:
            future = self._waiting.pop(outcome.index)
        if outcome.record is not None:
            future.set_result(self.store.put(_record(outcome.record)))
        else:
            future.set_exception(outcome.stopped or RunStopped(f"{outcome.source}: not started"))

    def _ended(self, run: Future[None]) -> None:
        """The runner's loop ended (not by ``close``): an article still waiting for its record,
        or read later, gets what ended it rather than waiting for ever."""
        if run.cancelled():
            return
        with self._lock:
            self._ended_by = run.exception() or RunStopped("the extraction had ended")
            waiting, self._waiting = list(self._waiting.values()), {}
        for future in waiting:
            future.set_exception(self._ended_by)

    def fed(self) -> None:
        """Every article is read: the runner's loop ends once their records are made."""
        if self._engine is not None:
            self._engine.submit(self._put(None))

    def close(self) -> None:
        """Stop the work still in flight and the engine."""
        if self._run is not None:
            self._run.cancel()
        if self._engine is not None:
            self._engine.close()


def extract_many(
    items: Iterable[ArticleLike],
    *,
    concurrency: int = 4,
    settings: Settings | None = None,
    cache: bool = True,
    **options: Any,
) -> Iterator[Record]:
    """Extract many articles, ``concurrency`` in flight at once (on one event loop, through one
    engine, as a run of the command line), yielding records in input order; ``cache`` as for
    :func:`extract`.

    The input is consumed lazily, at most ``2 * concurrency`` articles ahead of the record
    yielded last, so a generator over a large corpus does not sit in memory whole.

    Raises:
        ConfigError, InputError, RunStopped: as :func:`extract`, when the article concerned
            comes up for its record.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    chosen = _settings(settings, options)
    method = resolve_method(chosen)  # the call's method, resolved once
    if method.needs_model and chosen.embedded:
        embedded.check_served(chosen)
    store = _Cache(method, cache)
    many = _Many(method, store, concurrency)
    ahead: deque[Future[Record]] = deque()
    try:
        for item in items:
            ahead.append(many.record(item))
            while ahead and (ahead[0].done() or len(ahead) >= 2 * concurrency):
                yield ahead.popleft().result()
        many.fed()
        while ahead:
            yield ahead.popleft().result()
    finally:
        many.close()
        store.close()


async def aextract(
    article: ArticleLike,
    *,
    source: str | None = None,
    settings: Settings | None = None,
    cache: bool = True,
    **options: Any,
) -> Record:
    """:func:`extract` for asyncio code: the requests are made on the caller's event loop, so
    many ``aextract`` calls gathered together are all in flight at once.

    Raises:
        As :func:`extract`.
    """
    item, method, store = _call(article, source, settings, options, cache)
    try:
        if (done := store.at_once(item)) is not None:
            return done
        # Fixing the embedded server's address (the first call only) waits on a thread, not on
        # the loop; so does starting it, at the first request.
        engine = AsyncEngine(await asyncio.to_thread(embedded.shared, method.settings))
        try:
            asker = engine.article(item.id)
            return store.put(_record(await pipeline.aextract(item, asker, method)))
        finally:
            await engine.aclose()
    finally:
        store.close()


def to_arrow(records: Iterable[ExtractionRecord]) -> dict[str, Any]:
    """The records as the tidy tables of ``extractor export`` (one ``pyarrow.Table`` per table
    of the database schema, by table name, with the export's columns, types and ids), for
    DuckDB, Polars or pandas without a file in between."""
    return export.arrow_tables(records)


def to_pandas(records: Iterable[ExtractionRecord]) -> dict[str, Any]:
    """:func:`to_arrow` as pandas DataFrames, one per table (``frames["guarantors"]``).

    Raises:
        ConfigError: pandas is not installed.
    """
    if importlib.util.find_spec("pandas") is None:  # pyarrow converts to it; not a dependency
        raise ConfigError("to_pandas needs pandas: pip install pandas (or use to_arrow)")
    return {name: table.to_pandas() for name, table in to_arrow(records).items()}


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
