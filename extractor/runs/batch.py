"""Runs as batch files: write a run as OpenAI Batch API requests, send them (through the Batch
API, or one by one to any OpenAI-compatible server), and turn the results into records.

A batch job is a directory:

    requests.jsonl   one request per line, {"custom_id", "method", "url", "body"}: the format of
                     the OpenAI Batch API, which ``vllm run-batch -i`` also reads
    manifest.json    the settings and the articles, so results can be grounded without the inputs
    state.json       the Batch API's batch and file ids, after ``submit``
    results.jsonl    one result per line, {"custom_id", "response": {"status_code", "body"},
                     "error"}: what the Batch API, ``vllm run-batch -o`` and ``run`` write

Every strategy's requests are known before any answer (``Strategy.plan``), so a batch holds
all of them; an answer that does not validate cannot be re-asked and is treated as online
with no re-ask left. Articles with a request that failed or is missing get no record and are
listed for an online re-run.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import json
import shlex
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import openai

from .. import strategies
from .._version import __version__
from ..config import EMBEDDED_MODEL, Settings, default_max_tokens, masked
from ..core.answers import Meter
from ..errors import BackendError, ConfigError, InputError, OutputError
from ..io import articles
from ..io.files import Appender, read_jsonl, write_atomic
from ..model.bodies import request_body
from ..model.client import AsyncEngine
from ..model.flight import in_flight
from ..model.parsing import answer_of, read_usage
from ..model.retry import with_retries
from ..model.transport import api_client
from ..schemas import ExtractionRecord
from . import pipeline
from .method import RunMethod, resolve_method

ENDPOINT: Final = "/v1/chat/completions"
REQUESTS, MANIFEST, STATE, RESULTS, ERRORS = (
    "requests.jsonl",
    "manifest.json",
    "state.json",
    "results.jsonl",
    "errors.jsonl",
)


def request_id(article: int, request: int) -> str:
    """The ``custom_id`` of request ``request`` of the article at ``article`` in the input."""
    return f"a{article:06d}-r{request:04d}"


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class Prepared:
    """A batch job written by ``prepare``: its directory and how many articles, unreadable
    inputs and requests it holds."""

    directory: Path
    articles: int
    unreadable: int
    requests: int


def prepare(
    sources: list[str],
    settings: Settings,
    directory: Path,
    columns: articles.Columns | None = None,
) -> Prepared:
    """Write the batch job for ``sources`` into ``directory`` (created; must not hold a job);
    ``columns`` maps the fields of article tables among them. With no server named, a model
    other than the embedded one is asked through a Batch API or vLLM: mode ``json_schema``
    unless another is given.

    Raises:
        ConfigError: the directory already holds a job.
    """
    if (directory / REQUESTS).exists():
        raise ConfigError(
            f"{directory} already holds a batch job ({REQUESTS}); choose a new directory"
        )
    directory.mkdir(parents=True, exist_ok=True)
    if settings.embedded and settings.mode == "auto" and settings.model != EMBEDDED_MODEL:
        # Another model with no server named: a Batch API or vLLM, which take json_schema.
        settings = settings.model_copy(update={"mode": "json_schema"})
    method = resolve_method(settings)
    strategy, prompt, mode = method.strategy, method.prompt, method.method.mode
    entries: list[dict[str, Any]] = []
    count = 0
    lines: list[str] = []
    for index, item in enumerate(articles.read(sources, columns)):
        source = item.source
        if isinstance(item, articles.Unreadable):
            entries.append({"source": source, "error": str(item.error)})
            continue
        requests = []
        for n, ask in enumerate(strategy.plan(item.text, prompt)):
            body = request_body(ask, settings)
            custom_id = request_id(index, n)
            line = {"custom_id": custom_id, "method": "POST", "url": ENDPOINT, "body": body}
            lines.append(json.dumps(line, ensure_ascii=False) + "\n")
            requests.append({"custom_id": custom_id, "digest": _digest(body)})
        count += len(requests)
        entries.append(
            {
                "source": source,
                "article": {k: v for k, v in dataclasses.asdict(item).items() if k != "source"},
                "requests": requests,
            }
        )
    manifest = {
        "extractor_version": __version__,
        "prepared_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "settings": {
            "model": settings.model,
            "mode": mode,
            "strategy": strategy.name,  # ``auto`` resolved
            "prompt_version": settings.prompt_version,
            "max_tokens": settings.max_tokens,
            "temperature": settings.temperature,
            "seed": settings.seed,
            "base_url": masked(settings.base_url) if settings.base_url else None,
        },
        "articles": entries,
    }
    write_atomic(directory / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    write_atomic(directory / REQUESTS, "".join(lines))
    unreadable = sum("error" in e for e in entries)
    return Prepared(directory, len(entries) - unreadable, unreadable, count)


def _load_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: no {what} here; run `extractor batch prepare` first") from None
    except ValueError as exc:
        raise InputError(f"{path}: not JSON ({exc}); prepare the batch again") from None


def _requests(directory: Path) -> Iterator[dict[str, Any]]:
    path = directory / REQUESTS
    if not path.is_file():
        raise InputError(f"{path}: no request file; run `extractor batch prepare` first")
    for line in read_jsonl(path, json.loads, fix="prepare the batch again"):
        yield line.value


# --- sending the requests one by one (what `vllm run-batch` does, against any server) ----------


@dataclass
class Sent:
    """What ``batch run`` did: requests answered, failed and skipped (answered before), and the
    seconds it took."""

    requests: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0


def run(
    directory: Path,
    settings: Settings,
    *,
    concurrency: int = 1,
    backend: Callable[[Settings], AbstractContextManager[Settings]] = nullcontext,
) -> Sent:
    """Send every request of the job to ``settings.base_url`` and append the results to
    ``results.jsonl``; requests already answered there are not sent again.

    Each request goes through ``ArticleAsker.post_body``: the transport retries of the online path
    (``settings.retry``, Retry-After honoured), each request with the retry budget an article
    has. A request that still fails is written with its error; a 4xx answer is written as the
    Batch API writes one, and counts as failed.
    """
    results_path = directory / RESULTS
    answered = {item.custom_id for item in _results(results_path) if item.ok}
    pending = [r for r in _requests(directory) if r["custom_id"] not in answered]
    sent = Sent(skipped=len(answered))
    if not pending:
        return sent
    asked = {str(r["body"].get("model")) for r in pending}
    if settings.embedded and asked - {EMBEDDED_MODEL}:
        # The embedded server would answer with its own model whatever the request names, and
        # the records collected would name the model of the job.
        raise ConfigError(
            f"the job's requests are for model {sorted(asked - {EMBEDDED_MODEL})[0]!r}, which "
            f"needs its server: give --base-url URL or OPENAI_BASE_URL; with no server named "
            f"only the embedded {EMBEDDED_MODEL} runs"
        )
    started = time.monotonic()
    kept = "the results written before are kept, and the same command sends the rest"
    with backend(settings) as live, Appender(results_path, kept) as out:

        def keep(result: dict[str, Any]) -> None:
            out.append(json.dumps(result, ensure_ascii=False) + "\n")
            sent.requests += 1
            sent.failed += not _answered(result)

        asyncio.run(_send_all(live, pending, max(1, concurrency), keep))
    sent.seconds = time.monotonic() - started
    return sent


async def _send_all(
    settings: Settings,
    pending: list[dict[str, Any]],
    concurrency: int,
    keep: Callable[[dict[str, Any]], None],
) -> None:
    """Send ``pending``, ``concurrency`` at a time through one engine; ``keep`` takes each
    result line as it comes."""
    engine = AsyncEngine(settings)
    try:
        await in_flight(pending, concurrency, lambda request: _send_one(engine, request), keep)
    finally:
        await engine.aclose()


def _answered(result: dict[str, Any]) -> bool:
    """A result that holds an answer: no error, and HTTP 200 (a 4xx is written in the Batch API
    format, as the API does, but it is no answer)."""
    return result["error"] is None and (result.get("response") or {}).get("status_code") == 200


async def _send_one(engine: AsyncEngine, request: dict[str, Any]) -> dict[str, Any]:
    """One request's result line, in the Batch API output format."""
    custom_id = request["custom_id"]
    response: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    asker = engine.article()  # each request gets the retry budget an article gets
    try:
        body = await asker.post_body(request["body"], step=custom_id)
        response = {"status_code": 200, "request_id": "", "body": body}
    except openai.APIStatusError as exc:
        # What the server said is kept in the results: an echo of the key is masked there.
        key = engine.settings.api_key
        if exc.status_code == 429 or exc.status_code >= 500:
            error = {"code": str(exc.status_code), "message": masked(exc.response.text, key)[:300]}
        else:
            refusal = exc.body if isinstance(exc.body, dict) else {"error": str(exc.body)}
            refusal = json.loads(masked(json.dumps(refusal), key))
            response = {"status_code": exc.status_code, "request_id": "", "body": refusal}
    except openai.APIConnectionError as exc:
        error = {
            "code": "connection_error",
            "message": masked(f"{engine.url}: {exc}", engine.settings.api_key),
        }
    return {
        "id": f"batch_req_{custom_id}",
        "custom_id": custom_id,
        "response": response,
        "error": error,
    }


# --- the OpenAI Batch API ---------------------------------------------------------------------


def _client(settings: Settings) -> openai.OpenAI:
    if not (settings.api_key or settings.base_url):
        raise ConfigError(
            "the Batch API needs a key: set OPENAI_API_KEY (and OPENAI_BASE_URL for another "
            "provider that speaks it)"
        )
    return api_client(settings)


def _api_error(exc: openai.OpenAIError, settings: Settings) -> ConfigError | BackendError:
    where = masked(settings.base_url) if settings.base_url else "the OpenAI API"
    if isinstance(exc, openai.AuthenticationError):
        return ConfigError(f"{where} refused the API key (HTTP 401); set OPENAI_API_KEY")
    if isinstance(exc, openai.APIStatusError) and exc.status_code < 500:
        said = masked(exc.message, settings.api_key)
        return ConfigError(f"{where} refused the batch (HTTP {exc.status_code}): {said}")
    return BackendError(masked(f"{where}: {exc}", settings.api_key))


def submit(directory: Path, settings: Settings) -> dict[str, Any]:
    """Upload ``requests.jsonl`` and create a batch; its ids go to ``state.json``.

    Raises:
        ConfigError: already submitted, no key, or the API refused the file or the batch.
        BackendError: the API could not be reached.
    """
    state_path = directory / STATE
    if state_path.exists():
        state = _load_json(state_path, "batch state")
        raise ConfigError(
            f"{directory} was submitted already as batch {state.get('batch_id')}; "
            "use `extractor batch status` or `fetch`"
        )
    path = directory / REQUESTS
    if not path.is_file():
        raise InputError(f"{path}: no request file; run `extractor batch prepare` first")
    client = _client(settings)
    content = path.read_bytes()  # sent again whole if the upload is retried
    try:
        uploaded = with_retries(
            settings, lambda: client.files.create(file=(REQUESTS, content), purpose="batch")
        )
        batch = with_retries(
            settings,
            lambda: client.batches.create(
                input_file_id=uploaded.id,
                endpoint=ENDPOINT,
                completion_window="24h",
                metadata={"job": directory.name[:64]},
            ),
        )
    except openai.OpenAIError as exc:
        raise _api_error(exc, settings) from exc
    finally:
        client.close()
    state = {
        "batch_id": batch.id,
        "input_file_id": uploaded.id,
        "submitted_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    write_atomic(state_path, json.dumps(state, indent=1) + "\n")
    return state


@dataclass
class BatchStatus:
    """A submitted batch as the Batch API reports it, with the ids of its result files."""

    batch_id: str
    status: str
    completed: int
    failed: int
    total: int
    output_file_id: str | None
    error_file_id: str | None

    def line(self) -> str:
        """The status as one line for the terminal."""
        return (
            f"batch {self.batch_id}: {self.status}, {self.completed}/{self.total} requests done, "
            f"{self.failed} failed"
        )


def status(directory: Path, settings: Settings) -> BatchStatus:
    """Where the submitted batch stands."""
    state = _load_json(directory / STATE, "submitted batch (state.json)")
    client = _client(settings)
    try:
        batch = with_retries(settings, lambda: client.batches.retrieve(state["batch_id"]))
    except openai.OpenAIError as exc:
        raise _api_error(exc, settings) from exc
    finally:
        client.close()
    counts = batch.request_counts
    return BatchStatus(
        batch_id=batch.id,
        status=batch.status,
        completed=counts.completed if counts else 0,
        failed=counts.failed if counts else 0,
        total=counts.total if counts else 0,
        output_file_id=batch.output_file_id,
        error_file_id=batch.error_file_id,
    )


FINISHED = ("completed", "expired", "cancelled", "failed")


def _download(client: openai.OpenAI, file_id: str) -> bytes:
    return client.files.content(file_id).content


def fetch(directory: Path, settings: Settings) -> BatchStatus:
    """Download a finished batch's results (and errors) into the job directory.

    Raises:
        BackendError: the batch has not finished yet (the message says how far it is).
    """
    current = status(directory, settings)
    if current.status not in FINISHED:
        raise BackendError(f"{current.line()}; not finished yet, fetch again later")
    client = _client(settings)
    try:
        for file_id, name in ((current.output_file_id, RESULTS), (current.error_file_id, ERRORS)):
            if file_id:
                content = with_retries(settings, functools.partial(_download, client, file_id))
                write_atomic(directory / name, content.decode("utf-8"))
    except openai.OpenAIError as exc:
        raise _api_error(exc, settings) from exc
    finally:
        client.close()
    return current


# --- results into records ---------------------------------------------------------------------


@dataclass
class Result:
    """One line of a result file: the chat completion answering request ``custom_id``, or the
    ``problem`` that left it without one."""

    custom_id: str
    body: dict[str, Any] | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.problem is None


def _result(line: str) -> Result:
    """One line of a result file.

    Raises:
        ValueError: the line is no result (not JSON, or no ``custom_id``).
    """
    item = json.loads(line)
    if not isinstance(item, dict) or "custom_id" not in item:
        raise ValueError("no custom_id")
    custom_id = item["custom_id"]
    response = item.get("response") or {}
    error = item.get("error")
    code = response.get("status_code")
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        return Result(custom_id, None, f"failed: {message}")
    if code != 200:
        return Result(custom_id, None, f"HTTP {code}")
    return Result(custom_id, response.get("body"), None)


def _results(path: Path) -> Iterator[Result]:
    """The results of a result file (none when there is none); a line that holds none, or a
    last one a kill cut short, is passed over: its request counts as not answered."""
    if path.is_file():
        for line in read_jsonl(path, _result, skipped=lambda number, why: None):
            yield line.value


# Where a batch prepared with no server in mind went: the OpenAI Batch API (``batch submit``).
OPENAI_API_URL: Final = "https://api.openai.com/v1"


@dataclass
class Collected:
    """What ``collect`` made of a result file: the job's settings, the records, the articles to
    extract again with why, and what the answers cost."""

    settings: Settings
    records: list[ExtractionRecord] = field(default_factory=list)
    rerun: list[tuple[str, str]] = field(default_factory=list)  # (source, why)
    meter: Meter = field(default_factory=Meter)


def rerun_command(listing: Path, settings: Settings, output: str = "more.jsonl") -> str:
    """The shell command that extracts the articles listed in ``listing`` online with the
    batch's settings (server, model, mode, strategy, prompt, max_tokens), quoted to run as
    printed. A password the server URL had is not kept in the job: the URL shows ``***``."""
    base_url = settings.base_url
    if base_url is None and settings.model != EMBEDDED_MODEL:
        base_url = OPENAI_API_URL
    command = ["extractor", "extract", "--from-file", str(listing), "-o", output]
    if base_url is not None:
        command += ["--base-url", base_url]
    command += ["--model", settings.model, "--mode", settings.mode]
    command += ["--strategy", settings.strategy]
    if settings.prompt_version is not None:  # else the strategy's own
        command += ["--prompt", settings.prompt_version]
    prefix = (
        f"EXTRACTOR_MAX_TOKENS={settings.max_tokens} "
        if settings.max_tokens != default_max_tokens(settings.model)
        else ""
    )
    return prefix + shlex.join(command)


def collect(results_path: Path, manifest_path: Path) -> Collected:
    """Records from a result file, grounded and merged exactly as the online path does.

    Raises:
        InputError: the manifest or result file is missing or was written by another version.
    """
    manifest = _load_json(manifest_path, "batch manifest")
    if manifest.get("extractor_version") != __version__:
        raise InputError(
            f"{manifest_path}: prepared by extractor {manifest.get('extractor_version')}, this is "
            f"{__version__}; collect with that version or prepare the batch again"
        )
    if not results_path.is_file():
        raise InputError(f"{results_path}: no such result file")
    chosen = manifest["settings"]
    settings = Settings(
        base_url=chosen["base_url"],
        api_key=None,
        model=chosen["model"],
        mode=chosen["mode"],
        prompt_version=chosen["prompt_version"],
        strategy=chosen["strategy"],
        max_tokens=chosen["max_tokens"],
        temperature=chosen["temperature"],
        seed=chosen["seed"],
    )
    results: dict[str, Result] = {}
    for item in _results(results_path):
        if item.ok or item.custom_id not in results:
            results[item.custom_id] = item
    out = Collected(settings)
    method = resolve_method(settings)
    label = f"batch:{results_path.name}"
    for entry in manifest["articles"]:
        source = entry["source"]
        if "error" in entry:
            unread = articles.Unreadable(source, InputError(entry["error"]))
            out.records.append(pipeline.unreadable(unread, method, settings.base_url or ""))
            continue
        article = articles.Article(source=source, **entry["article"])
        record, why = record_of(article, entry["requests"], results, method, label)
        if record is None:
            out.rerun.append((source, why or "no result"))
            continue
        out.records.append(record)
        usage = record.provenance.usage
        out.meter.prompt_tokens += usage.prompt_tokens
        out.meter.completion_tokens += usage.completion_tokens
        out.meter.requests += usage.requests
        if record.error is not None:
            out.rerun.append((source, f"{record.error.type}: {record.error.message}"))
    return out


def record_of(
    article: articles.Article,
    requests: list[dict[str, str]],
    results: dict[str, Result],
    method: RunMethod,
    source: str,
) -> tuple[ExtractionRecord | None, str | None]:
    """One article's record from the results of its requests (in plan order), grounded and
    merged as online; ``provenance.base_url`` is ``source``. None and the reason when a
    request has no usable result, or the plan changed since the requests were made."""
    asks = method.strategy.plan(article.text, method.prompt)
    if len(asks) != len(requests):
        return None, "the plan of this article changed since it was prepared; prepare again"
    bodies = []
    for request in requests:
        result = results.get(request["custom_id"])
        if result is None:
            return None, f"request {request['custom_id']} has no result"
        if result.body is None:
            return None, f"request {request['custom_id']} {result.problem}"
        bodies.append(result.body)
    answers, meter = answers_of(asks, bodies, method.settings)
    return pipeline.conclude(article, method, asks, answers, meter, source), None


def answers_of(
    asks: list[strategies.Ask], bodies: list[dict[str, Any]], settings: Settings
) -> tuple[list[strategies.Answer], Meter]:
    """The answers in the chat completions ``bodies`` to ``asks``, validated as online (an
    answer that does not validate is kept as its error, not asked again), and what they cost."""
    meter = Meter()
    answers: list[strategies.Answer] = []
    for ask, body in zip(asks, bodies, strict=True):
        meter.requests += 1
        meter.responses += 1
        try:
            prompt, completion = read_usage(body.get("usage"))
        except BackendError as exc:
            answers.append(OutputError(str(exc)))
            continue
        meter.prompt_tokens += prompt
        meter.completion_tokens += completion
        asked = Meter(requests=1, responses=1, prompt_tokens=prompt, completion_tokens=completion)
        try:
            outcome = answer_of(
                ask.answer,
                body,
                context=ask.context,
                max_tokens=ask.max_tokens or settings.max_tokens,
                meter=asked,
            )
        except OutputError as exc:
            answers.append(exc)
            continue
        finally:  # a cut-off answer counts, whatever could be made of it
            meter.cut_off += asked.cut_off
            meter.kept_cut += asked.kept_cut
        answers.append(outcome)
    return answers, meter
