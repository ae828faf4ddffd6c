"""Run the pipeline on a Ray cluster with Ray Data: the same strategies, grounding and records as
one process, with the answers obtained by Ray actors (from any OpenAI-compatible server) or by
``ray.data.llm``'s vLLM processor on GPU nodes (no server at all).

Online (``executor``, behind ``extractor extract --ray``): the driver reads the inputs, skips
what the output or the cache already holds (``runner.triage``), and hands the rest to Ray Data
as a dataset of article rows. A pool of actors, each running the project's engine with ``-j``
articles in flight, turns rows into records (``pipeline.aextract``: retries, re-asks and
per-article budgets as in one process; ``--rpm``/``--tpm`` shared through one limiter actor).
Records stream back to the driver, which is the only writer of the output file, so resumption
works as in one process. A worker that dies mid-run is restarted by Ray and its block of articles
extracted again; a record reaches the output at most once.

Offline (``extract_with_processor``): planning (``strategies.plan``) is a CPU stage that turns
each article into request rows (messages and the answer's JSON schema for guided decoding), a
processor (``vllm_processor``, or any stand-in with the same row contract) adds the model's
``generated_text``, and concluding (``pipeline.conclude``, as ``batch collect`` does) is a CPU
stage that groups the answers by article and grounds them, as ``batch collect`` does.

Ray binds to 127.0.0.1 when this module starts the cluster (``cluster``), with no dashboard and
no usage reporting.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from .. import strategies
from ..config import Settings
from ..core.answers import Meter
from ..errors import ConfigError, ExtractorError, RunStopped
from ..io import articles
from ..model.bodies import request_body
from ..model.flight import in_flight
from ..model.spending import RateLimiter, Spend
from ..model.sync import Engine
from ..schemas import ExtractionRecord
from . import batch, pipeline, runner
from .method import RunMethod, resolve_method

LOCAL = "local"
# A local cluster on a small machine: two CPUs, a small object store (records are small).
LOCAL_CPUS = 2
LOCAL_OBJECT_STORE_BYTES = 200 * 1024 * 1024


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "Ray is not installed; install the ray extra: pip install 'guarantee-extractor[ray]'"
        ) from None
    return ray


def import_ray(local: bool) -> Any:
    """The ``ray`` module; for a local cluster, imported so that every Ray process binds to and
    talks over 127.0.0.1 only (Ray's single-machine mode, which it reads when it is imported).

    Raises:
        ConfigError: Ray is not installed, or it was imported before in a way that would make
            a local cluster listen on other addresses.
    """
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if local:
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    ray = _ray()
    if local:
        from ray._private import ray_constants

        if ray_constants.ENABLE_RAY_CLUSTER:
            raise ConfigError(
                "Ray was imported before it could be kept to 127.0.0.1; set "
                "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 before starting Python, or pass a cluster "
                "address to --ray"
            )
    return ray


def quiet(verbose: bool = False) -> None:
    """Keep the Python side of Ray's own log lines (start-up notices, Ray Data's execution
    plan) off standard error unless ``verbose``; what goes wrong reaches the caller as an
    exception. Called before ``ray.init``."""
    if verbose:
        return
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


NATIVE_LOG = Path(tempfile.gettempdir()) / "extractor-ray.log"


@contextmanager
def native_stderr_to(path: Path = NATIVE_LOG) -> Iterator[TextIO]:
    """Send what Ray's C++ core (and the processes a local cluster starts) writes to file
    descriptor 2 into ``path``, keeping Python's ``sys.stderr``, which the caller's messages
    and progress bar use, on the terminal; yields that terminal stream, and puts both back at
    the end.

    The driver's C++ core logs to descriptor 2 whatever Ray's logging settings say, and on
    every normal run it writes a line at level E (Ray Data creates its actors with their
    constructor arguments in the object store and restarts allowed). ``RAY_BACKEND_LOG_LEVEL``
    would hide it but announces itself with a line of its own, and would hide errors in Ray's
    log files too. A ``sys.stderr`` that is not descriptor 2 (a test runner's capture) is left
    as it is."""
    try:
        own = sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        own = False
    if not own:
        yield sys.stderr
        return
    sys.stderr.flush()
    saved = os.dup(2)
    terminal = os.fdopen(
        os.dup(saved), "w", buffering=1, encoding=sys.stderr.encoding, errors="backslashreplace"
    )
    previous = sys.stderr
    with path.open("ab") as log:
        os.dup2(log.fileno(), 2)
    sys.stderr = terminal
    try:
        yield terminal
    finally:
        terminal.flush()
        os.dup2(saved, 2)
        os.close(saved)
        sys.stderr = previous
        # Left open: a logging handler Ray made meanwhile may still hold it.
        _KEPT.append(terminal)


_KEPT: list[TextIO] = []


def _quiet_data(verbose: bool) -> None:
    """Ray Data's progress bars (logged line by line when standard error is no terminal) off
    unless ``verbose``; the project's own bar counts the articles. Ray must be initialised."""
    if verbose:
        return
    context = _ray().data.DataContext.get_current()
    context.enable_progress_bars = False
    # Ray Data configures its own logger when it is first used: quiet it again.
    logging.getLogger("ray.data").setLevel(logging.ERROR)


@contextmanager
def cluster(address: str = LOCAL, *, verbose: bool = False) -> Iterator[None]:
    """Connect to the Ray cluster at ``address`` (``auto``, ``ray://head:10001``), or with
    ``local`` start one on this machine bound to 127.0.0.1 (two CPUs, a 200 MB object store,
    no dashboard, no usage statistics); disconnect (and stop a local one) afterwards. When Ray
    is already initialised in this process, that cluster is used and left running. Ray's own
    log lines stay off standard error unless ``verbose`` (:func:`quiet`).

    Raises:
        ConfigError: Ray is not installed, or the cluster cannot be reached.
    """
    ray = import_ray(address == LOCAL)
    if ray.is_initialized():
        yield
        return
    quiet(verbose)
    level = logging.INFO if verbose else logging.ERROR
    try:
        if address == LOCAL:
            ray.init(
                num_cpus=LOCAL_CPUS,
                object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                log_to_driver=verbose,
                logging_level=level,
            )
        else:
            ray.init(address=address, log_to_driver=verbose, logging_level=level)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"cannot reach the Ray cluster at {address!r} ({exc}); start it with `ray start "
            "--head` or pass its address, e.g. --ray ray://head:10001"
        ) from None
    try:
        yield
    finally:
        ray.shutdown()


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------


def article_row(index: int, article: articles.Article) -> dict[str, Any]:
    """An article as a dataset row, with its position among the run's inputs."""
    return {"index": index, **dataclasses.asdict(article)}


def _article_of(row: dict[str, Any]) -> articles.Article:
    return articles.Article(**{f.name: row[f.name] for f in dataclasses.fields(articles.Article)})


def _rows(table: Any) -> list[dict[str, Any]]:
    """The rows of an Arrow batch as plain Python values (nulls stay None)."""
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows


def _columns(rows: list[dict[str, Any]], names: tuple[str, ...]) -> dict[str, list[Any]]:
    return {name: [row[name] for row in rows] for name in names}


# ---------------------------------------------------------------------------------------------
# Online: actors running the engine
# ---------------------------------------------------------------------------------------------


class ClusterLimiter(RateLimiter):
    """The run's request and token rate limits, shared by every engine on the cluster: a
    ``RateLimiter`` living in one Ray actor, which each engine asks before a request."""

    def __init__(self, handle: Any) -> None:  # no lock here: the actor has it
        self._handle = handle

    def acquire(self, tokens: int) -> list[float]:
        """Wait (in the actor) until the request fits; the ticket is the actor's key for it."""
        key: int = _ray().get(self._handle.acquire.remote(tokens))
        return [float(key)]

    async def aacquire(self, tokens: int) -> list[float]:
        """``acquire`` without holding up the event loop (a Ray reference is awaitable)."""
        key: int = await self._handle.acquire.remote(tokens)
        return [float(key)]

    def settle(self, ticket: list[float], tokens: int) -> None:
        self._handle.settle.remote(int(ticket[0]), tokens)


class _LimiterActor:
    """Holds the cluster's one ``RateLimiter``; tickets stay here, engines get their keys."""

    def __init__(self, rpm: int | None, tpm: int | None) -> None:
        self._limiter = RateLimiter(rpm, tpm)
        self._tickets: dict[int, list[float]] = {}
        self._keys = itertools.count()
        self._lock = threading.Lock()

    def acquire(self, tokens: int) -> int:
        ticket = self._limiter.acquire(tokens)
        with self._lock:
            key = next(self._keys)
            self._tickets[key] = ticket
        return key

    def settle(self, key: int, tokens: int) -> None:
        with self._lock:
            ticket = self._tickets.pop(key, None)
        if ticket is not None:
            self._limiter.settle(ticket, tokens)


def shared_limiter(rpm: int | None, tpm: int | None) -> ClusterLimiter | None:
    """One rate limiter for every engine on the cluster (Ray must be initialised), or None
    when there are no limits."""
    if not (rpm or tpm):
        return None
    actor = _ray().remote(num_cpus=0, max_concurrency=1000)(_LimiterActor)
    return ClusterLimiter(actor.remote(rpm, tpm))


class Extractor:
    """A Ray Data actor: records from article rows, ``threads`` articles in flight at once
    through one engine."""

    def __init__(
        self, method: RunMethod, settings: Settings, threads: int, limiter: RateLimiter | None
    ) -> None:
        self._method = method
        self._threads = max(1, threads)
        asks_model = method.needs_model
        self._engine = Engine(settings, limiter=limiter, spend=Spend()) if asks_model else None

    async def _one(self, row: dict[str, Any]) -> dict[str, Any]:
        began = time.monotonic()
        article = _article_of(row)
        asker = self._engine.core.article(article.id) if self._engine is not None else None
        record = await pipeline.aextract(article, asker, self._method)
        return {
            "index": row["index"],
            "record": record.model_dump_json(),
            "meter": dataclasses.asdict(asker.meter if asker is not None else Meter()),
            "seconds": time.monotonic() - began,
        }

    async def _all(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = []
        if self._engine is None:  # no request to wait for: one after another, with no loop
            for row in rows:
                done.append(await self._one(row))
            return done
        await in_flight(rows, self._threads, self._one, done.append)
        return done

    def __call__(self, batch_of_rows: Any) -> dict[str, list[Any]]:
        rows = list(_rows(batch_of_rows))
        done = strategies.run_sync(self._engine, lambda _: self._all(rows))
        return _columns(done, ("index", "record", "meter", "seconds"))


def _extractor_error(exc: BaseException) -> ExtractorError | None:
    """The project's error inside a Ray failure (Ray wraps what a task raised)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ExtractorError):
            return seen
        cause = getattr(seen, "cause", None)
        seen = cause if isinstance(cause, BaseException) else (seen.__cause__ or seen.__context__)
    return None


def executor(
    address: str, workers: int, given: runner.RunOptions, *, verbose: bool = False
) -> runner.Execute:
    """How ``runner.run`` gets its records on the Ray cluster at ``address`` (``local`` for one
    started here): ``workers`` actors, each extracting ``-j`` (``concurrency``) articles at once.
    Ray's own log lines are shown only when ``verbose``.

    Raises:
        ConfigError: a run budget was asked for (a cluster cannot stop every worker before the
            request past it; use ``--max-tokens-per-article``), or Ray is not installed.
    """
    if given.budget is not None:
        raise ConfigError(
            "--budget cannot be kept on a Ray cluster (the workers cannot be stopped before the "
            "request past it); drop it, or use --max-tokens-per-article"
        )
    import_ray(address == LOCAL)

    def execute(
        todo: list[tuple[int, articles.Article]],
        method: RunMethod,
        settings: Settings,
        options: runner.RunOptions,
        spend: Spend,
        finish: Callable[[runner.Outcome], None],
        log: Callable[[str], None],
    ) -> None:
        with cluster(address, verbose=verbose):
            _quiet_data(verbose)
            for row in records(todo, method, settings, workers, options):
                finish(_outcome(row, todo))

    return execute


def records(
    todo: list[tuple[int, articles.Article]],
    method: RunMethod,
    settings: Settings,
    workers: int,
    options: runner.RunOptions,
) -> Iterator[dict[str, Any]]:
    """Rows ``{index, record, meter, seconds}`` as the actors finish them (Ray must be
    initialised).

    Raises:
        ConfigError: the server refused the requests for a reason no article escapes.
    """
    ray = _ray()
    threads = max(1, options.concurrency)
    limiter = shared_limiter(options.rpm, options.tpm)
    rows = [article_row(index, article) for index, article in todo]
    dataset = ray.data.from_items(rows, override_num_blocks=max(1, -(-len(rows) // threads)))
    extracted = dataset.map_batches(
        Extractor,
        fn_constructor_kwargs={
            "method": method,
            "settings": settings,
            "threads": threads,
            "limiter": limiter,
        },
        batch_size=threads,
        batch_format="pyarrow",
        # A fixed pool of actors (``compute``; Ray 2.51 deprecates ``concurrency`` for it).
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=1,
    )
    try:
        yield from extracted.iter_rows()
    except Exception as exc:  # Ray wraps what a task raised in its own exception types
        found = _extractor_error(exc)
        if isinstance(found, ConfigError | RunStopped):
            raise found from None
        raise


def _outcome(row: dict[str, Any], todo: list[tuple[int, articles.Article]]) -> runner.Outcome:
    record = ExtractionRecord.model_validate_json(row["record"])
    meter = Meter(**row["meter"])
    status = "failed" if record.error is not None else "extracted"
    return runner.Outcome(
        int(row["index"]), record.article.source, status, record, meter, float(row["seconds"])
    )


# ---------------------------------------------------------------------------------------------
# Offline: a processor (vLLM on GPU nodes) answers planned requests
# ---------------------------------------------------------------------------------------------

REQUEST_COLUMNS = ("index", "request", "requests", "custom_id", "messages", "sampling_params")


def request_rows(row: dict[str, Any], method: RunMethod) -> list[dict[str, Any]]:
    """The planning stage: every request ``strategies.plan`` makes for one article row, as the
    rows a ``ray.data.llm`` processor takes: the chat ``messages`` and ``sampling_params`` with
    the answer's JSON schema for guided decoding (``structured_outputs``), the same messages
    and schema the online path sends in ``json_schema`` mode."""

    as_sent = method.settings.model_copy(update={"mode": "json_schema"})
    asks = method.strategy.plan(row["text"], method.prompt)
    out = []
    for n, ask in enumerate(asks):
        body = request_body(ask, as_sent)
        schema = body["response_format"]["json_schema"]["schema"]
        out.append(
            {
                "index": row["index"],
                "request": n,
                "requests": len(asks),
                "custom_id": batch.request_id(row["index"], n),
                "messages": body["messages"],
                "sampling_params": {
                    "temperature": body["temperature"],
                    "max_tokens": body["max_tokens"],
                    "seed": body["seed"],
                    # As text: Arrow would merge the schemas of all rows into one struct.
                    "structured_outputs": {"json": json.dumps(schema)},
                },
            }
        )
    return out


def completion_of(row: dict[str, Any], model: str) -> dict[str, Any]:
    """A processor's response row (``generated_text``, ``num_input_tokens``,
    ``num_generated_tokens``) as the chat completion the online path would have received."""
    generated = int(row.get("num_generated_tokens") or 0)
    limit = int(row["sampling_params"]["max_tokens"])
    prompt = int(row.get("num_input_tokens") or 0)
    return {
        "id": row["custom_id"],
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": row.get("generated_text") or ""},
                "finish_reason": "length" if generated >= limit else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": generated,
            "total_tokens": prompt + generated,
        },
    }


def conclude_rows(
    article: dict[str, Any], answers: list[dict[str, Any]], method: RunMethod, label: str
) -> ExtractionRecord | None:
    """The concluding stage: one article's record from its processor rows, grounded and merged
    as ``batch collect`` does (an answer that does not validate is not re-asked); None when a
    request has no answer."""
    item = _article_of(article)
    asks = method.strategy.plan(item.text, method.prompt)
    rows = sorted(answers, key=lambda a: a["request"])
    if [row["request"] for row in rows] != list(range(len(asks))):
        return None
    bodies = [completion_of(row, method.settings.model) for row in rows]
    found, meter = batch.answers_of(asks, bodies, method.settings)
    return pipeline.conclude(item, method, asks, found, meter, label)


Processor = Callable[[Any], Any]  # a Ray Dataset of request rows -> the same rows, answered


def extract_with_processor(
    todo: list[tuple[int, articles.Article]],
    settings: Settings,
    processor: Processor,
    *,
    label: str = "ray.data.llm",
) -> list[ExtractionRecord]:
    """Records of ``todo`` answered by ``processor`` (``vllm_processor(...)`` on GPU nodes):
    plan as a CPU stage, the processor, conclude as a CPU stage grouped by article (Ray must be
    initialised). ``provenance.base_url`` is ``batch:LABEL``. Articles with a request left
    unanswered get no record."""
    ray = _ray()
    method = resolve_method(settings)
    rows = [article_row(index, article) for index, article in todo]
    by_index = {row["index"]: row for row in rows}
    requests = ray.data.from_items(rows).flat_map(lambda row: request_rows(row, method))
    answered = processor(requests)

    def conclude(group: dict[str, Any]) -> dict[str, list[Any]]:
        answers = _rows(group)
        article = by_index[answers[0]["index"]]
        record = conclude_rows(article, answers, method, f"batch:{label}")
        return {
            "index": [article["index"]],
            "record": [record.model_dump_json() if record is not None else ""],
        }

    concluded = answered.groupby("index").map_groups(conclude, batch_format="pyarrow")
    out = sorted(concluded.take_all(), key=lambda row: int(row["index"]))
    return [ExtractionRecord.model_validate_json(row["record"]) for row in out if row["record"]]


def vllm_processor(
    model_source: str, *, concurrency: int = 1, batch_size: int = 64, **engine_kwargs: Any
) -> Processor:
    """A ``ray.data.llm`` vLLM processor for ``extract_with_processor``: the chat template
    applied to ``messages``, guided JSON decoding from ``sampling_params``, and the response
    columns the concluding stage reads. Needs GPU nodes with vLLM installed.

    Raises:
        ConfigError: ``ray.data.llm`` or vLLM is not installed.
    """
    try:
        from ray.data.llm import build_processor, vLLMEngineProcessorConfig
    except ImportError as exc:
        raise ConfigError(
            f"ray.data.llm is not available ({exc}); install ray[llm] on the GPU nodes"
        ) from None
    config = vLLMEngineProcessorConfig(
        model_source=model_source,
        engine_kwargs=engine_kwargs,
        concurrency=concurrency,
        batch_size=batch_size,
    )
    processor: Processor = build_processor(
        config,
        preprocess=lambda row: dict(row),
        postprocess=lambda row: dict(row),
    )
    return processor
