"""One batch run: every input gets one record, extracted concurrently, resumably, from the cache
when it can be, within the run's budget, and a summary of what it cost.

Output to a file goes first to ``FILE.partial``, one whole line per record, flushed and fsynced
as each article finishes, so a killed run loses at most the article in flight. Re-running the
same command reads ``FILE.partial`` (and ``FILE``), drops a line cut short by the kill, keeps
every finished record and extracts only the rest; when every input has its record, the records
are written to ``FILE`` in input order and ``FILE.partial`` is removed.

For the whole run the output is locked (``fcntl.flock`` on ``FILE.lock``, which holds the pid):
a second run on the same ``FILE`` stops before doing anything, naming the first.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..config import Settings
from ..core.answers import Meter
from ..core.identity import Identity
from ..errors import ConfigError, ExtractorError, RunStopped
from ..io import articles
from ..io.files import Appender, write_atomic, write_error
from ..io.records import read_record_lines
from ..model.client import AsyncEngine
from ..model.flight import in_flight
from ..model.spending import Budget, Price, RateLimiter, Spend
from ..schemas import ExtractionRecord
from . import cache, pipeline
from .method import RunMethod

# A record is finished work for an input when it is the work the run would do (its identity,
# ``extractor.core.identity``) and was made for that input (its source).
Done = tuple[str, Identity]


def done_as(record: ExtractionRecord) -> Done:
    """What finished work ``record`` is: its source and identity."""
    return record.article.source, Identity.of(record)


@dataclass(frozen=True)
class RunOptions:
    """How a run may spend: workers, rate limits, cache, budget and price."""

    concurrency: int = 1
    rpm: int | None = None
    tpm: int | None = None
    cache: cache.RecordCache | None = None
    budget: Budget | None = None
    price: Price | None = None


@dataclass
class Outcome:
    """What happened to one input in this run."""

    index: int
    source: str
    status: str  # extracted | failed | cached | resumed | unreadable | not started
    record: ExtractionRecord | None
    meter: Meter = field(default_factory=Meter)
    seconds: float = 0.0
    stopped: ExtractorError | None = None  # what left it without a record: RunStopped, ConfigError


def counted(count: int, one: str, many: str | None = None) -> str:
    """``count`` and the noun in its number: "1 request", "2 requests", "0 retries"."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


@dataclass
class Cause:
    """One cause of errors in a run: the error's type and message, and the articles it hit."""

    type: str
    message: str
    sources: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        message = self.message if len(self.message) <= 240 else self.message[:239] + "…"
        return f"{self.type}: {message}"


@dataclass
class Summary:
    """What one run did and spent. Tokens, requests and dollars count this run's requests only
    (every attempt included); records from the cache or a previous run cost nothing now."""

    outcomes: list[Outcome]
    wall_seconds: float
    price: Price | None
    stopped: str | None = None
    output: str = "-"
    cache_error: str | None = None

    def count(self, *statuses: str) -> int:
        return sum(o.status in statuses for o in self.outcomes)

    def _sum(self, name: str) -> int:
        return sum(int(getattr(o.meter, name)) for o in self.outcomes)

    @property
    def prompt_tokens(self) -> int:
        return self._sum("prompt_tokens")

    @property
    def completion_tokens(self) -> int:
        return self._sum("completion_tokens")

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def model_seconds(self) -> float:
        return sum(o.meter.seconds for o in self.outcomes)

    @property
    def usd(self) -> float | None:
        if self.price is None:
            return None
        return self.price.cost(self.prompt_tokens, self.completion_tokens)

    @property
    def failed(self) -> int:
        return sum(o.record is not None and o.record.error is not None for o in self.outcomes)

    def causes(self) -> list[Cause]:
        """The errors of this run's records grouped by cause (type and message, the article's
        own name taken off the front of the message), the most frequent first."""
        groups: dict[tuple[str, str], Cause] = {}
        for outcome in self.outcomes:
            error = outcome.record.error if outcome.record is not None else None
            if error is None:
                continue
            message = error.message.removeprefix(f"{outcome.source}: ")
            cause = groups.setdefault((error.type, message), Cause(error.type, message))
            cause.sources.append(outcome.source)
        return sorted(groups.values(), key=lambda cause: -len(cause.sources))

    def error_lines(self, most: int = 5) -> list[str]:
        """What went wrong, on screen: one line when every article failed the same way, else
        a line per cause with its count (the ``most`` frequent; the records hold the rest)."""
        causes = self.causes()
        if not causes:
            return []
        tried = self.count("extracted", "failed", "unreadable")
        if len(causes) == 1 and len(causes[0].sources) == tried:
            (cause,) = causes
            if tried == 1:
                which = "the article" if len(self.outcomes) == 1 else "the one article tried"
                return [f"{which} failed: {cause}"]
            which = f"all {tried}" + ("" if tried == len(self.outcomes) else " tried")
            return [f"{which} failed the same way: {cause}"]
        lines = [f"errors by cause ({self.failed} articles):"]
        for cause in causes[:most]:
            count = len(cause.sources)
            where = cause.sources[0] if count == 1 else f"e.g. {cause.sources[0]}"
            lines.append(f"  {counted(count, 'article')}: {cause} ({where})")
        if len(causes) > most:
            lines.append(f"  … and {len(causes) - most} more causes; each record has its error")
        return lines

    def _pace(self, done: int, rate: float) -> str:
        """How fast articles were extracted; a run that extracted none says where its
        records came from instead of a rate of nought."""
        if done:
            return f"{rate:.1f} articles/min"
        cached, resumed = self.count("cached"), self.count("resumed")
        if self.outcomes and cached + resumed == len(self.outcomes):
            if not resumed:
                return "all from the cache"
            return "all done before" if not cached else "all from the cache or done before"
        return "none extracted"

    def lines(self) -> list[str]:
        done = self.count("extracted", "failed")
        rate = done / self.wall_seconds * 60 if self.wall_seconds > 0 else 0.0
        articles_line = (
            f"{counted(len(self.outcomes), 'article')}: {done} extracted, "
            f"{self.count('cached')} from the cache, {self.count('resumed')} already done, "
            f"{self.count('unreadable')} unreadable, {self.count('not started')} not started; "
            f"{self.failed} with an error"
        )
        cost = f", ${self.usd:.4f}" if self.usd is not None else ""
        tokens_line = (
            f"{self.total_tokens:,} tokens spent (prompt {self.prompt_tokens:,}, completion "
            f"{self.completion_tokens:,}) in {counted(self._sum('requests'), 'request')} "
            f"({counted(self._sum('retries'), 'retry', 'retries')}, "
            f"{counted(self._sum('reasks'), 're-ask')}){cost}"
        )
        time_line = (
            f"{self.wall_seconds:.1f}s, {self.model_seconds:.1f}s of it waiting on the model; "
            f"{self._pace(done, rate)}" + ("" if self.output == "-" else f" -> {self.output}")
        )
        lines = [articles_line, *self.error_lines(), tokens_line, time_line]
        cut, kept = self._sum("cut_off"), self._sum("kept_cut")
        if cut:
            lines.append(
                f"{counted(cut, 'answer was', 'answers were')} cut off at max_tokens: "
                f"{cut - kept} asked again with a larger budget, {kept} kept cut"
                + (
                    " (their records say so; raise EXTRACTOR_MAX_TOKENS or --retry-budget and "
                    "re-run them with --no-cache)"
                    if kept
                    else ""
                )
            )
        if self.cache_error:
            lines.append(f"warning: the cache could not be written ({self.cache_error})")
        if self.stopped:
            lines.append(self.stopped)
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "articles": len(self.outcomes),
            "extracted": self.count("extracted", "failed"),
            "cached": self.count("cached"),
            "resumed": self.count("resumed"),
            "unreadable": self.count("unreadable"),
            "not_started": self.count("not started"),
            "failed": self.failed,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "requests": self._sum("requests"),
            "retries": self._sum("retries"),
            "reasks": self._sum("reasks"),
            "cut_off": self._sum("cut_off"),
            "kept_cut": self._sum("kept_cut"),
            "usd": self.usd,
            "wall_seconds": round(self.wall_seconds, 3),
            "model_seconds": round(self.model_seconds, 3),
            "stopped": self.stopped,
            "errors": [
                {"type": c.type, "message": c.message, "count": len(c.sources)}
                for c in self.causes()
            ],
            "per_article": [
                {
                    "source": o.source,
                    "status": o.status,
                    "error": o.record.error.type if o.record and o.record.error else None,
                    "prompt_tokens": o.meter.prompt_tokens,
                    "completion_tokens": o.meter.completion_tokens,
                    "requests": o.meter.requests,
                    "retries": o.meter.retries,
                    "reasks": o.meter.reasks,
                    "cut_off": o.meter.cut_off,
                    "model_seconds": round(o.meter.seconds, 3),
                    "seconds": round(o.seconds, 3),
                    "usd": self.price.cost(o.meter.prompt_tokens, o.meter.completion_tokens)
                    if self.price
                    else None,
                }
                for o in self.outcomes
            ],
        }


class Output:
    """Where records go: standard output in input order, or a file written resumably."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._appender: Appender | None = None
        self._pending: dict[int, str] = {}  # standard output: finished out of order
        self._next = 0
        self.unfinished: list[ExtractionRecord] = []  # what FILE.partial held at the start
        if path != "-":
            target = Path(path)
            if target.parent != Path() and not target.parent.is_dir():
                raise ConfigError(f"cannot write {path}: directory {target.parent} does not exist")
            if target.is_dir():
                raise ConfigError(f"cannot write {path}: it is a directory; name a .jsonl file")
            self.target = target
            self.partial = target.with_name(target.name + ".partial")
            self.lock = target.with_name(target.name + ".lock")

    @property
    def resumable(self) -> bool:
        return self.path != "-"

    @contextmanager
    def claimed(self, sources: list[str]) -> Iterator[None]:
        """Hold the output for a run: refuse an output that is one of ``sources``, and take an
        exclusive lock on ``FILE`` and ``FILE.partial`` until the run ends.

        Raises:
            ConfigError: the output is an input, another process holds it (its pid named), or
                its directory cannot be written.
        """
        if not self.resumable:
            yield
            return
        ours = {self.target, self.partial, self.lock}
        for source in sources:
            if source != "-" and any(_same_file(Path(source), path) for path in ours):
                raise ConfigError(
                    f"-o {self.path} is also an input ({source}); write the records to another file"
                )
        with exclusive(self.lock, self.target):
            yield

    def finished(self) -> list[ExtractionRecord]:
        """Records of earlier runs (``FILE``, then ``FILE.partial``), without the error-free
        tail a kill can leave: a line cut short, or one that is not a record, is dropped and
        ``FILE.partial`` rewritten without it."""
        if not self.resumable:
            return []
        records: list[ExtractionRecord] = []
        if self.target.is_file():  # a line that holds no record: its article is extracted again
            lines = read_record_lines(self.target, skipped=lambda number, why: None)
            records += [line.value for line in lines]
        if self.partial.is_file():
            bad: list[int] = []
            lines = read_record_lines(self.partial, skipped=lambda number, _: bad.append(number))
            if bad:
                write_atomic(self.partial, "".join(line.text for line in lines))
            self.unfinished = [line.value for line in lines]
            records += self.unfinished
        return records

    def check_unfinished(self, wanted: set[Done]) -> None:
        """Refuse to take over a ``FILE.partial`` that holds finished records this run would
        not keep: they are another command's work, and completing this run would drop them.

        Raises:
            ConfigError: naming the file, an example record and the way out.
        """
        foreign = [r for r in self.unfinished if r.error is None and done_as(r) not in wanted]
        if foreign:
            first = foreign[0]
            raise ConfigError(
                f"{self.partial} holds {len(foreign)} finished records this command would not "
                f"keep (e.g. {first.article.source} by {first.provenance.model}, strategy "
                f"{first.provenance.strategy}): they are the work of another command. Finish "
                "that command first, or move the file away to start afresh"
            )

    def __enter__(self) -> Output:
        if self.resumable:
            # A line cut short here is dropped by the re-run, which extracts that article again.
            appender = Appender(self.partial, kept="the records finished before are kept")
            self._appender = appender.__enter__()
        return self

    def append(self, index: int, record: ExtractionRecord) -> None:
        """The record of input ``index``: to a file one whole line at once, on disk before the
        next article is counted done; to standard output as soon as every earlier input's
        record has been written."""
        line = record.model_dump_json() + "\n"
        if self._appender is None:
            self._pending[index] = line
            while self._next in self._pending:
                sys.stdout.write(self._pending.pop(self._next))
                self._next += 1
            sys.stdout.flush()
            return
        self._appender.append(line)

    def complete(self, records: list[ExtractionRecord]) -> None:
        """Every input has its record: ``FILE`` gets them in input order, atomically.

        Raises:
            ConfigError: ``FILE`` cannot be written (disk full, no permission); the records
                stay in ``FILE.partial`` and the same command writes ``FILE`` once it can.
        """
        if not self.resumable:
            return
        try:
            write_atomic(self.target, "".join(r.model_dump_json() + "\n" for r in records))
        except ConfigError as exc:
            if not self.partial.is_file():
                raise
            raise ConfigError(
                f"{exc}; every record is kept in {self.partial}, and the same command writes "
                f"{self.target} from it"
            ) from None
        self.partial.unlink(missing_ok=True)

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        appender, self._appender = self._appender, None
        if appender is not None:
            appender.__exit__(kind, *exc)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve() or (b.exists() and a.samefile(b))
    except OSError:
        return False


@contextmanager
def exclusive(lock: Path, target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``lock`` (created, holding our pid, removed at the end) for
    writing ``target``; the kernel releases it if the process dies, ``kill -9`` included.

    ``flock`` by hand rather than through filelock: the refusal names the run that holds the
    output (its pid, written into the lock file once locked), which filelock neither records
    nor reports, and the lock file is removed at the end without a second run locking a file
    that is being unlinked (the inode check below).

    Raises:
        ConfigError: another process holds it (its pid named), or it cannot be created.
    """
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise write_error(target, exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", errors="replace").strip() or "unknown"
            os.close(fd)
            raise ConfigError(
                f"{target} is being written by another extractor run (pid {holder}); wait "
                "for it to finish, or choose another -o"
            ) from None
        try:
            current = os.stat(lock).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            break
        os.close(fd)  # the holder removed the file as we opened it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        lock.unlink(missing_ok=True)
        os.close(fd)


Backend = Callable[[Settings], AbstractContextManager[Settings]]


def _no_backend(settings: Settings) -> AbstractContextManager[Settings]:
    return nullcontext(settings)


def run(
    sources: list[str],
    method: RunMethod,
    output: Output,
    options: RunOptions,
    *,
    backend: Backend = _no_backend,
    execute: Execute | None = None,
    columns: articles.Columns | None = None,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[Outcome], None] | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> Summary:
    """Extract every source into ``output`` by ``method`` (the run's, resolved where the run
    starts: ``method.resolve_method``); returns what was done and spent.

    ``execute`` obtains the records (default: ``in_process``); ``columns`` maps the fields of
    article tables among the sources; ``on_total`` is told how many articles the sources hold
    once they are read.

    ``backend`` starts the model server for the run when one is needed (never when every
    record comes from the cache or an earlier run) and yields the settings to use with it.

    Raises:
        ConfigError: the output is an input or is held by another run; it cannot be written
            (disk full, no permission); an article table has no text column; or the server
            refused the requests for a reason no article escapes (bad key, unknown model).
            Records finished before it are kept in ``FILE.partial``.
        InputError: an article table cannot be read.
        KeyboardInterrupt: the run was interrupted; finished records are kept likewise.
    """
    with output.claimed(sources):
        return _run_claimed(
            sources,
            method,
            output,
            options,
            backend,
            execute or in_process,
            columns,
            on_total,
            on_progress,
            log,
        )


def _run_claimed(
    sources: list[str],
    method: RunMethod,
    output: Output,
    options: RunOptions,
    backend: Backend,
    execute: Execute,
    columns: articles.Columns | None,
    on_total: Callable[[int], None] | None,
    on_progress: Callable[[Outcome], None] | None,
    log: Callable[[str], None],
) -> Summary:
    started = time.monotonic()
    spend = Spend(options.budget, options.price)
    outcomes, todo = triage(articles.read(sources, columns), method, output, options.cache)
    if on_total:
        on_total(len(outcomes))
    with output:
        for outcome in outcomes:
            if outcome.record is not None:
                if outcome.status != "resumed":
                    output.append(outcome.index, outcome.record)
                if on_progress:
                    on_progress(outcome)
        stopped = None
        if todo:
            stopped = _extract_all(
                todo, outcomes, method, output, options, spend, backend, execute, on_progress, log
            )
    summary = Summary(
        outcomes=outcomes,
        wall_seconds=time.monotonic() - started,
        price=options.price,
        stopped=stopped,
        output=output.path,
        cache_error=options.cache.write_error if options.cache else None,
    )
    if stopped is None:
        output.complete([o.record for o in outcomes if o.record is not None])
    return summary


def triage(
    items: Iterable[articles.Article | articles.Unreadable],
    method: RunMethod,
    output: Output,
    record_cache: cache.RecordCache | None,
) -> tuple[list[Outcome], list[tuple[int, articles.Article]]]:
    """What each input needs: its record when it already has one (unreadable, finished by an
    earlier run into ``output``, or in the cache), else a place in the returned work list.

    Raises:
        ConfigError: ``output``'s partial file holds another command's finished records.
    """
    done: dict[Done, ExtractionRecord] = {
        done_as(r): r for r in output.finished() if r.error is None
    }
    outcomes: list[Outcome] = []
    todo: list[tuple[int, articles.Article]] = []
    wanted: set[Done] = set()
    for index, item in enumerate(items):
        source = item.source
        if isinstance(item, articles.Unreadable):
            record = pipeline.unreadable(item, method, method.settings.base_url or "")
            outcomes.append(Outcome(index, source, "unreadable", record))
            continue
        work = (source, method.identity(item.id))
        wanted.add(work)
        earlier = done.get(work)
        if earlier is not None:
            record = earlier.model_copy(update={"article": pipeline.article_of(item)})
            outcomes.append(Outcome(index, source, "resumed", record))
            continue
        hit = record_cache.get(cache.key(item.id, method), item.id) if record_cache else None
        if hit is not None:
            # The cache keys the extraction (the same text, the same settings); the article's
            # metadata is always this input's, whatever run made the entry.
            record = hit.model_copy(update={"article": pipeline.article_of(item)})
            outcomes.append(Outcome(index, source, "cached", record))
            continue
        outcomes.append(Outcome(index, source, "not started", None))
        todo.append((index, item))
    output.check_unfinished(wanted)
    return outcomes, todo


class Execute(Protocol):
    """How the articles of a run get their records: in this process (``in_process``),
    or a cluster (``extractor.runs.raydata``). ``finish`` takes each article's outcome as it comes,
    in any order, and keeps it (output file, cache, progress). ``settings`` are those the
    server for the run was started with (its address), ``method`` the run's.

    Raises:
        ConfigError: the server refused the requests for a reason no article escapes.
        KeyboardInterrupt: the run was interrupted.
    """

    def __call__(
        self,
        todo: list[tuple[int, articles.Article]],
        method: RunMethod,
        settings: Settings,
        options: RunOptions,
        spend: Spend,
        finish: Callable[[Outcome], None],
        log: Callable[[str], None],
    ) -> None: ...


def in_process(
    todo: list[tuple[int, articles.Article]],
    method: RunMethod,
    settings: Settings,
    options: RunOptions,
    spend: Spend,
    finish: Callable[[Outcome], None],
    log: Callable[[str], None],
) -> None:
    """Extract ``todo`` with ``options.concurrency`` articles in flight at once, on one event
    loop through one engine (one client, the run's rate limits, spending and count of
    connection failures in a row)."""
    try:
        asyncio.run(_in_flight(todo, method, settings, options, spend, finish))
    except KeyboardInterrupt:
        spend.halt("the run was interrupted")
        log("interrupted: finishing the records in flight is abandoned")
        raise


async def _in_flight(
    todo: list[tuple[int, articles.Article]],
    method: RunMethod,
    settings: Settings,
    options: RunOptions,
    spend: Spend,
    finish: Callable[[Outcome], None],
) -> None:
    limiter = RateLimiter(options.rpm, options.tpm) if (options.rpm or options.tpm) else None
    fatal: list[ConfigError] = []
    engine = AsyncEngine(settings, limiter=limiter, spend=spend) if method.needs_model else None

    def kept(outcome: Outcome) -> None:
        if isinstance(outcome.stopped, ConfigError):  # no other article would fare better
            fatal.append(outcome.stopped)
        finish(outcome)

    try:
        await extract_each(todo, method, engine, options.concurrency, kept, spend)
    except ConfigError as exc:  # the output cannot be written: nothing more is worth asking
        spend.halt(str(exc))
        raise
    finally:
        if engine is not None:
            await engine.aclose()
    if fatal:
        raise fatal[0]


async def extract_each(
    todo: Iterable[tuple[int, articles.Article]] | AsyncIterator[tuple[int, articles.Article]],
    method: RunMethod,
    engine: AsyncEngine | None,
    concurrency: int,
    finish: Callable[[Outcome], None],
    spend: Spend | None = None,
) -> None:
    """Extract the articles of ``todo`` (each with its index), ``concurrency`` in flight at
    once through ``engine`` (None for a method that asks no model), each taken as room frees
    up (``todo`` may be fed asynchronously); ``finish`` gets each article's outcome as it
    comes, in any order. The loop every online extraction of many articles runs: a run's
    (``in_process``) and the Python interface's (``extractor.extract_many``, which feeds
    ``todo`` from its caller's thread).

    An article stopped by ``RunStopped`` or ``ConfigError`` has no record; its outcome says
    why (``stopped``). With ``spend`` (a run's), a ``ConfigError`` halts the rest, since no
    other article would fare better, and no article starts once the run is halted.
    """

    async def work(item: tuple[int, articles.Article]) -> Outcome:
        index, article = item
        began = time.monotonic()
        if spend is not None and spend.halted.is_set():
            return Outcome(index, article.source, "not started", None)
        asker = engine.article(article.id) if engine is not None else None
        meter = asker.meter if asker is not None else Meter()
        try:
            record = await pipeline.aextract(article, asker, method)
        except (RunStopped, ConfigError) as exc:
            if isinstance(exc, ConfigError) and spend is not None:
                spend.halt(str(exc))
            seconds = time.monotonic() - began
            return Outcome(index, article.source, "not started", None, meter, seconds, exc)
        status = "failed" if record.error is not None else "extracted"
        return Outcome(index, article.source, status, record, meter, time.monotonic() - began)

    await in_flight(todo, max(1, concurrency), work, finish)


def _extract_all(
    todo: list[tuple[int, articles.Article]],
    outcomes: list[Outcome],
    method: RunMethod,
    output: Output,
    options: RunOptions,
    spend: Spend,
    backend: Backend,
    execute: Execute,
    on_progress: Callable[[Outcome], None] | None,
    log: Callable[[str], None],
) -> str | None:
    """Extract ``todo`` as ``execute`` does; returns why the run stopped early, or None when
    every article got its record."""
    # A strategy that asks no model starts no server.
    settings = method.settings
    with backend(settings) if method.needs_model else nullcontext(settings) as live:

        def finish(outcome: Outcome) -> None:
            if outcomes[outcome.index].record is not None:
                return  # a record that came twice (a retried task) is kept once
            outcomes[outcome.index] = outcome
            if outcome.record is None:
                return
            output.append(outcome.index, outcome.record)
            if options.cache is not None and outcome.record.error is None:
                options.cache.put(cache.key(outcome.record.article.id, method), outcome.record)
            if on_progress:
                on_progress(outcome)

        execute(todo, method, live, options, spend, finish, log)
    left = sum(o.status == "not started" for o in outcomes)
    if left:
        where = (
            f"{output.partial} keeps the finished records" if output.resumable else "nothing kept"
        )
        why = "the run stopped"
        try:
            spend.check()
        except RunStopped as exc:
            why = str(exc)
        return f"stopped: {why}. {left} articles have no record yet; {where}."
    return None


__all__ = [
    "Execute",
    "Output",
    "RunOptions",
    "Summary",
    "extract_each",
    "in_process",
    "run",
    "triage",
]
