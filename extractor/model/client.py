"""The one place that builds the OpenAI client and turns a chat request into a validated draft.

Every model call goes through ``openai.AsyncOpenAI`` to an OpenAI-compatible endpoint. The retry
policy (``config.RetryPolicy``) is applied here and nowhere else: SDK retries off, tenacity
around each HTTP request for transport failures, and for an answer that fails validation a
re-ask built by instructor's re-ask handler for the mode, the answer parsed and validated by
instructor's response parser. The request bodies are ``bodies.chat_body``'s, so the schema of
an answer model is built once, not on every request.

``AsyncEngine`` holds what every request of a run shares: the client, the rate limits, the
spending and the count of connection failures in a row. ``AsyncEngine.article`` gives an
``ArticleAsker``, which asks one article's questions and keeps its meter, retry budget and
request-log state, so one engine keeps hundreds of articles in flight on one event loop.

``Engine`` is the same engine for synchronous callers: a thin wrapper that runs an
``AsyncEngine`` on an event loop of its own (a daemon thread) and asks for one article at a
time. It holds no logic of its own; there is one implementation of the retries, re-asks and
budgets, the asynchronous one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import json
import logging
import re
import ssl
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

import httpx2
import instructor
import jiter
import openai
from instructor.core.exceptions import IncompleteOutputException, ResponseParsingError
from instructor.v2 import Provider, mode_registry
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from ..config import Mode, RetryPolicy, Settings, masked
from ..core.answers import Meter, Outcome
from ..core.build import validation_context
from ..core.prompting import Message
from ..errors import BackendError, BudgetError, ConfigError, OutputError, RunStopped
from ..schemas import ArticleDraft
from . import embedded, requestlog
from .bodies import chat_body, encode
from .spending import RateLimiter, Spend

log = logging.getLogger(__name__)

# The instructor mode whose response parser and re-ask handler serve each of ours.
_INSTRUCTOR_MODES: dict[str, instructor.Mode] = {
    "json_schema": instructor.Mode.JSON_SCHEMA,
    # The answer is the message text, as in JSON_SCHEMA; only the response_format differs
    # (llama-cpp-python's own, see bodies.chat_body), and it keeps the schema out of the prompt.
    "llamacpp": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "tools": instructor.Mode.TOOLS,
}

# What instructor re-asks after: the answer is not JSON, not the schema's shape, or fails the
# validators (a quote not in the article).
_INVALID = (ValidationError, json.JSONDecodeError, ResponseParsingError)


class _StopWhen(stop_base):
    """A tenacity stop condition from a predicate (tenacity types only its own classes)."""

    def __init__(self, predicate: Callable[[RetryCallState], bool]) -> None:
        self._predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._predicate(retry_state)


M = TypeVar("M", bound=BaseModel)
T = TypeVar("T")
R = TypeVar("R")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client of the process: loading the CA certificates costs tens
    of milliseconds, more than a client's every other part."""
    return httpx2.create_ssl_context()


class _Pool:
    def __init__(self) -> None:
        self.transport = httpx2.AsyncHTTPTransport(verify=_ssl_context())
        self.in_flight = 0


class _Pools(httpx2.AsyncBaseTransport):
    """Connections in several pools: each request goes to the pool with the fewest in flight,
    and a new pool is opened when every pool has ``size``.

    A connection pool goes over all its connections twice for every request, so the CPU a
    request costs grows with the requests in flight; in pools of ``size`` it stays as it is at
    ``size`` (with 128 in flight, one pool cost about half as much again per request as pools
    of 16, in ``benchmarks/client.py``'s loop).
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._pools: list[_Pool] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        pool = min(self._pools, key=lambda p: p.in_flight, default=None)
        if pool is None or pool.in_flight >= self._size:
            pool = _Pool()
            self._pools.append(pool)
        pool.in_flight += 1
        try:
            return await pool.transport.handle_async_request(request)
        finally:
            pool.in_flight -= 1  # the answer's body is still to be read: close enough

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.transport.aclose()


class Breaker:
    """Connection failures in a row, across every article of a run: at ``limit`` (0: never) the
    server is taken for gone, and the run stops instead of spending every article's retries on
    it. Any answer from the server, an HTTP error included, starts the count again."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._count = 0
        self._lock = threading.Lock()

    def failed(self) -> bool:
        """Count a request that could not reach the server; true once the limit is reached."""
        with self._lock:
            self._count += 1
            return 0 < self.limit <= self._count

    def answered(self) -> None:
        with self._lock:
            self._count = 0


# No one request reads or writes anywhere near this many tokens: a count past it is broken.
USAGE_CEILING = 10_000_000


def read_usage(usage: Any, url: str | None = None) -> tuple[int, int]:
    """The prompt and completion tokens a server reported for one request (an SDK object, a
    dict, or None when it reported none: 0 and 0).

    Raises:
        BackendError: a count is negative, not a whole number or absurdly large: budgets are kept
            on these counts, so the answer is not trusted.
    """
    if usage is None:
        return 0, 0
    counts = []
    for name in ("prompt_tokens", "completion_tokens"):
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
        if value is None:
            value = 0
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (0 <= value <= USAGE_CEILING)
        ):
            raise BackendError(
                f"{url or 'the server'} reported {name}={value!r}, which no request can use; "
                "its token counts (and the budgets kept on them) cannot be trusted, so its "
                "answer is rejected. Fix the server, or use another"
            )
        counts.append(value)
    return counts[0], counts[1]


# The most of an answer that is read: a chat completion of the longest max_tokens is a small
# part of it, and a server sending more (a runaway generation, a file where the API should be)
# would otherwise hold the whole body in memory, several times over while it is parsed.
MAX_ANSWER_BYTES = 4_000_000
# Headers of the body as sent, which no longer describe it once it is read (and decoded).
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def _read_capped(response: httpx2.Response, url: str | None) -> httpx2.Response:
    """``response`` (sent with ``stream=True``) with its body read, at most
    ``MAX_ANSWER_BYTES`` of it (decoded, so a compressed body cannot get past it either).

    Raises:
        BackendError: the body is longer (by its Content-Length, before anything is read).
    """
    too_long = BackendError(
        f"{url or 'the server'} answered HTTP {response.status_code} with more than "
        f"{MAX_ANSWER_BYTES:,} bytes, more than any chat completion takes; the rest was not "
        "read. Check the server (a runaway generation?) or --base-url"
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise too_long
    if declared.isdigit() and "content-encoding" not in response.headers:
        await response.aread()  # the length is known and within the cap: read it at once
        return response
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise too_long
        chunks.append(chunk)
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
    return httpx2.Response(
        response.status_code, headers=headers, content=b"".join(chunks), request=response.request
    )


def _not_json(url: str | None, response: httpx2.Response, secret: str | None = None) -> ConfigError:
    kind = response.headers.get("content-type") or "no content type"
    start = masked(response.content[:4000].decode("utf-8", errors="replace"), secret)[:80]
    return ConfigError(
        f"{url} answered HTTP {response.status_code} with {kind}, not a JSON chat completion: "
        f"{start!r}; check --base-url / OPENAI_BASE_URL (an OpenAI-compatible API, usually "
        "ending in /v1)"
    )


def _failure(exc: BaseException | None) -> str:
    """A short name for why a request failed, for the request log."""
    if isinstance(exc, openai.APIStatusError):
        return str(exc.status_code)
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    return type(exc).__name__ if exc is not None else ""


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def _retry_after(exc: BaseException | None) -> float | None:
    if isinstance(exc, openai.APIStatusError):
        value = exc.response.headers.get("retry-after")
        if value is not None:
            try:
                return max(0.0, float(value))
            except ValueError:
                return None
    return None


def policy_wait(policy: RetryPolicy) -> Callable[[RetryCallState], float]:
    """How long the retry policy waits before a transport retry: what the server's Retry-After
    asks, at most ``backoff_max``, else exponential backoff with jitter."""
    backoff = wait_exponential_jitter(initial=policy.backoff_initial, max=policy.backoff_max)

    def wait(state: RetryCallState) -> float:
        hinted = _retry_after(state.outcome.exception() if state.outcome else None)
        return min(hinted, policy.backoff_max) if hinted is not None else backoff(state)

    return wait


def api_client(settings: Settings) -> openai.OpenAI:
    """The synchronous client of the OpenAI Files and Batches API (``extractor batch submit``,
    ``status``, ``fetch``), with the SDK's own retries off: its calls go through
    :func:`with_retries`, the retry policy every request of the project keeps."""
    return openai.OpenAI(
        base_url=settings.base_url,
        api_key=settings.api_key or "not-needed",
        max_retries=0,
        timeout=settings.timeout,
    )


def with_retries(
    settings: Settings, call: Callable[[], T], *, sleep: Callable[[float], None] = time.sleep
) -> T:
    """``call()`` (one API request) under the transport retries of the retry policy: on
    connection errors, timeouts, HTTP 429 and 5xx, at most ``transport_retries`` more times,
    waiting as :func:`policy_wait` says.

    Raises:
        openai.OpenAIError: the last failure, when the retries are spent or the failure is not
            one to retry.
    """
    policy = settings.retry
    for attempt in Retrying(
        stop=stop_after_attempt(1 + policy.transport_retries),
        wait=policy_wait(policy),
        retry=retry_if_exception(_is_transient),
        reraise=True,
        sleep=sleep,
    ):
        with attempt:
            return call()
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


def _json_text(content: str) -> str:
    """The JSON object inside a message that may wrap it in prose or a code fence."""
    stripped = content.strip()
    if stripped.startswith("{"):
        return stripped
    fenced = re.search(r"```(?:json)?\s*(\{.*?)(?:```|$)", content, re.DOTALL)
    if fenced:
        return fenced.group(1)
    start = content.find("{")
    return content[start:] if start >= 0 else content


def _message_content(completion: Any) -> str | None:
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    if getattr(message, "tool_calls", None):
        arguments: str = message.tool_calls[0].function.arguments
        return arguments
    content: str | None = message.content
    return content


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_CONTROL = re.compile(r"[\x00-\x1f]")

# Optional objects of the draft that can be emptied instead of dropping what holds them.
_NULLABLE = frozenset({"response_time"})


def salvage(
    content: str,
    model: type[M] = ArticleDraft,  # type: ignore[assignment]
) -> tuple[M, list[tuple[str, Any]]]:
    """Parse an answer for shape only, tolerating a cut-off end and pruning malformed items.

    A truncated JSON document is completed as far as it goes; every list item that does not
    validate is removed and returned with its path, so the rest of the answer can still be
    grounded.

    Raises:
        OutputError: nothing with the shape of the schema could be recovered.
    """
    try:
        data = jiter.from_json(_json_text(content).encode(), partial_mode="trailing-strings")
    except ValueError as exc:
        raise OutputError(f"the answer is not JSON: {exc}") from None
    pruned: list[tuple[str, Any]] = []
    for _ in range(200):  # each round removes at least one item; answers are far smaller
        try:
            return model.model_validate(data, context={"ground": False}), pruned
        except ValidationError as invalid:
            error = invalid.errors()[0]
            loc = tuple(error["loc"])
            # The deepest list item, or optional object, that holds the error goes.
            cut = max(
                (i for i, part in enumerate(loc) if isinstance(part, int) or part in _NULLABLE),
                default=None,
            )
            if cut is None:
                raise OutputError(
                    f"the answer does not match the schema: {error['msg']} at "
                    f"{_path(loc) or 'top level'}"
                ) from None
            parent = data
            for part in loc[:cut]:
                parent = parent[part]
            key = loc[cut]
            if isinstance(key, int):
                removed = parent.pop(key)
            else:
                removed, parent[key] = parent[key], None
            pruned.append((_path(loc[: cut + 1]), removed))
    raise OutputError("the answer has too many malformed items to salvage")


class AsyncEngine:
    """Sends requests to one OpenAI-compatible server under the retry policy: one client for
    every article in flight, which each ask through their own ``ArticleAsker``."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx2.AsyncClient | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        limiter: RateLimiter | None = None,
        spend: Spend | None = None,
        breaker: Breaker | None = None,
        revive: Callable[[], bool] | None = None,
    ) -> None:
        """
        Args:
            settings: the run's settings; ``base_url`` must be set.
            http_client: the transport seam (tests pass a mock transport); by default the
                SDK's client over pools of connections (``_Pools``).
            sleep: what backoff waits with (tests record the waits instead); by default a wait
                that ends when the run is halted.
            limiter: request and token rate limits of the run.
            spend: the run's token account and budget.
            breaker: the run's count of connection failures in a row (by default the engine's
                own, from ``settings.retry.connection_failures``).
            revive: called when the server cannot be reached; starts it again if it died
                (true when it did). By default the embedded server's, when this process
                started the server at ``settings.base_url``.

        Raises:
            ConfigError: no ``base_url``.
        """
        if settings.base_url is None:
            raise ConfigError("no server to talk to: start the embedded server or give --base-url")
        self.settings = settings
        self.mode: Mode = settings.resolved_mode()
        self.url = settings.base_url
        self._http = http_client or openai.DefaultAsyncHttpxClient(transport=_Pools())
        self.client = openai.AsyncOpenAI(
            base_url=settings.base_url,
            # Local servers ignore the key, but the SDK insists on one.
            api_key=settings.api_key or "not-needed",
            max_retries=0,
            timeout=settings.timeout,
            http_client=self._http,
        )
        self._endpoint = httpx2.URL(f"{settings.base_url}/chat/completions")
        self._timeout = {"timeout": httpx2.Timeout(settings.timeout).as_dict()}
        self._headers: httpx2.Headers | None = None
        self.handlers = mode_registry.get_handlers(Provider.OPENAI, _INSTRUCTOR_MODES[self.mode])
        self.sleep = sleep or (spend.asleep if spend is not None else asyncio.sleep)
        self.limiter = limiter
        self.spend = spend
        self.breaker = breaker or Breaker(settings.retry.connection_failures)
        self._revive = revive if revive is not None else embedded.reviver(settings.base_url)
        self._start = embedded.starter(settings.base_url)

    def article(self, article_id: str = "") -> ArticleAsker:
        """An asker for one article's requests (its id goes into the request log)."""
        return ArticleAsker(self, article_id)

    async def aclose(self) -> None:
        await self.client.close()

    async def post(self, payload: bytes) -> httpx2.Response:
        """POST a chat-completion body to the server and read its answer; ``--timeout`` bounds
        all of it (connecting, sending, waiting and reading).

        The request goes out through the SDK client's connections with its URL and headers, and
        fails as the SDK's own request fails, but is built here rather than by the SDK's
        per-request option machinery (the SDK's retries are off anyway), which cost a sixth of
        a request's CPU.

        Raises:
            openai.APITimeoutError: no whole answer within the timeout.
            openai.APIConnectionError: the server could not be reached, or dropped the request.
            openai.APIStatusError: the server answered 4xx or 5xx (the SDK's subclass of it).
            BackendError: the answer is longer than ``MAX_ANSWER_BYTES`` (not read further).
        """
        if self._headers is None:  # the SDK's headers name the event loop's library
            given = {**self.client.auth_headers, **self.client.default_headers}
            self._headers = httpx2.Headers({k: v for k, v in given.items() if isinstance(v, str)})
        request = httpx2.Request(
            "POST", self._endpoint, headers=self._headers, content=payload, extensions=self._timeout
        )
        try:
            async with asyncio.timeout(self.settings.timeout):
                streamed = await self._http.send(request, stream=True)
                try:
                    response = await _read_capped(streamed, self.url)
                finally:
                    await streamed.aclose()
        except (TimeoutError, httpx2.TimeoutException):
            raise openai.APITimeoutError(request=request) from None
        except BackendError:
            raise
        except Exception as exc:  # as the SDK: whatever else kept the answer away
            raise openai.APIConnectionError(request=request) from exc
        if response.is_error:
            raise self.client._make_status_error_from_response(response)
        return response

    async def ready(self) -> None:
        """Before a request: start the embedded server if this process serves it on demand
        and it has not been started yet (on a thread, not on the loop).

        Raises:
            RunStopped: it did not come up (the message says why; no request is sent).
        """
        if self._start is None:
            return
        try:
            await asyncio.to_thread(self._start)
        except BackendError as exc:
            if self.spend is not None:
                self.spend.halt(str(exc))
            raise RunStopped(str(exc)) from None
        self._start = None

    async def unreachable(self) -> None:
        """A request could not reach the server: start it again if it died (the embedded
        server), and stop the run once too many requests in a row have failed so.

        Raises:
            RunStopped: the limit of connection failures in a row is reached.
        """
        if self._revive is not None:
            await asyncio.to_thread(self._revive)
        if self.breaker.failed():
            why = (
                f"{self.breaker.limit} requests in a row could not reach "
                f"{self.settings.base_url}; start the server (or fix --base-url) and run the "
                "same command again to finish (--max-connection-failures sets the limit)"
            )
            if self.spend is not None:
                self.spend.halt(why)
            raise RunStopped(why)


class ArticleAsker:
    """One article's requests through an engine: its meter (requests, tokens, the retry budget
    retries and re-asks draw on) and what the request log says of each request. Articles in
    flight at once each have their own; one asks its questions one after another."""

    def __init__(self, engine: AsyncEngine, article_id: str = "") -> None:
        self._engine = engine
        self.settings = engine.settings
        self.meter = Meter(retry_budget=engine.settings.retry.budget)
        self._article = article_id
        # What the request log says of the next request: plan step, attempt, kind and reason.
        self._step = ""
        self._attempt = 0
        self._next: tuple[requestlog.Kind, str] = ("first", "")
        self._waited_past_cap: float | None = None

    def _start_step(self, step: str) -> None:
        self._step, self._attempt, self._next = step, 0, ("first", "")

    async def extract(self, messages: list[Message], text: str) -> Outcome[ArticleDraft]:
        """Ask for an ``ArticleDraft`` of ``text`` and validate that its quotes are in ``text``.

        Raises:
            BackendError: the server failed past the transport retries.
            ConfigError: the server refused the request for a reason the user must fix
                (authentication, unknown model, bad request).
            OutputError: no answer could even be parsed for shape.
        """
        return await self.ask(ArticleDraft, messages, context=validation_context(text))

    async def ask(
        self,
        response_model: type[M],
        messages: list[Message],
        *,
        context: dict[str, Any] | None = None,
        max_tokens: int | None = None,
        step: str = "",
    ) -> Outcome[M]:
        """Ask for one ``response_model``, validated with ``context``, under the retry policy.
        ``step`` names the request in the request log (e.g. ``guarantors#2``).

        An answer that fails validation is re-asked up to ``max_reasks`` times, while the
        article's retry budget lasts; after the last, it is parsed for shape only
        (``Outcome.grounded`` false). An answer cut off at ``max_tokens`` is asked again, the
        same question with twice the budget, up to ``Settings.max_tokens_ceiling`` and while
        the retry budget lasts (the same question at the same budget would be cut off again);
        one cut off past that is salvaged for what it holds.

        Raises:
            BackendError, ConfigError, OutputError: as for ``extract``.
            BudgetError, RunStopped: a spending limit was reached.
        """
        policy = self.settings.retry
        limit = max_tokens or self.settings.max_tokens
        body = chat_body(response_model, messages, self.settings, max_tokens)
        handlers = self._engine.handlers
        self._start_step(step)
        completion: ChatCompletion | None = None
        invalid: Exception | None = None
        for answers in range(1 + policy.max_reasks):
            if invalid is not None:
                if self.meter.retry_budget <= 0:
                    problem = (
                        f"the article's retry budget ({policy.budget}) was spent; the last "
                        "answer is kept as it stands"
                    )
                    return self._salvaged(response_model, completion, problem, answers)
                self.meter.retry_budget -= 1
                self.meter.reasks += 1
                # instructor appends the answer and the error to the messages it is given.
                body = handlers.reask_handler(
                    kwargs={**body, "messages": list(body["messages"])},
                    response=completion,
                    exception=invalid,
                )
                said = str(body["messages"][-1].get("content", ""))
                self._next = ("reask", " ".join(said.split())[:300])
            try:
                completion = _completion(await self._send(body), self._engine.url)
                while _cut_off(completion) and (larger := self._larger(limit)) is not None:
                    self._next = ("reask", f"cut off at max_tokens={limit}; asked with {larger}")
                    limit, body = larger, {**body, "max_tokens": larger}
                    completion = _completion(await self._send(body), self._engine.url)
            except openai.OpenAIError as exc:
                raise self._backend_error(exc) from exc
            if _cut_off(completion):
                self.meter.kept_cut += 1
            try:
                draft = handlers.response_parser(
                    response=completion,
                    response_model=response_model,
                    validation_context=context,
                    strict=False,
                    stream=False,
                    is_async=True,
                )
            except IncompleteOutputException:
                content = _message_content(completion)
                problem = f"the answer was cut off at max_tokens={limit}"
                if not content:
                    raise OutputError(f"{problem} before it said anything") from None
                return self._salvaged(response_model, completion, problem, answers + 1)
            except _INVALID as exc:
                invalid = exc
                continue
            return Outcome(draft=draft, grounded=True, meter=self.meter)
        problem = f"re-asks exhausted after {1 + policy.max_reasks} answer(s): {invalid}"
        return self._salvaged(response_model, completion, problem, 1 + policy.max_reasks)

    def _larger(self, limit: int) -> int | None:
        """The budget to ask again with after an answer was cut off at ``limit`` (which counts
        it), drawn on the retry budget; None when there is no more to give or none left."""
        self.meter.cut_off += 1
        larger = min(2 * limit, self.settings.max_tokens_ceiling)
        if larger <= limit or self.meter.retry_budget <= 0:
            return None
        self.meter.retry_budget -= 1
        self.meter.reasks += 1
        return larger

    def _salvaged(
        self, model: type[M], completion: ChatCompletion | None, problem: str, answers: int
    ) -> Outcome[M]:
        content = _message_content(completion)
        if content is None:
            raise OutputError(f"no usable answer after {answers} attempt(s)")
        try:
            draft, pruned = salvage(content, model)
        except OutputError as exc:
            raise OutputError(f"{problem}, and {exc}") from None
        return Outcome(
            draft=draft, grounded=False, meter=self.meter, problem=problem, pruned=pruned
        )

    async def post_body(self, body: dict[str, Any], *, step: str = "") -> dict[str, Any]:
        """Send a prepared chat-completion body as it stands (a batch file's request) under the
        same transport retries, rate limits and budgets as ``ask``; the server's JSON answer.

        Raises:
            openai.APIStatusError: the server refused it, or kept failing past the retries.
            openai.APIConnectionError: it could not be reached in time, past the retries.
            BudgetError, RunStopped: a spending limit was reached.
        """
        self._start_step(step)
        return await self._send(body)

    async def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        """One chat completion, retried on transport failures while the article's retry budget
        lasts; counts requests, answers and tokens."""
        payload = encode(body)
        # About three characters a token, plus all the answer may use.
        chars = sum(len(str(m.get("content") or "")) for m in body.get("messages", []))
        tokens = chars // 3 + int(body.get("max_tokens") or 0)
        self._waited_past_cap = None
        await self._engine.ready()
        answer: dict[str, Any] = {}
        async for attempt in self._retrying():
            with attempt:
                answer = await self._post(payload, tokens)
        self.meter.responses += 1
        return answer

    def _retrying(self) -> AsyncRetrying:
        """The transport retries of one request: on connection errors, timeouts, 429 and 5xx,
        waiting as ``_wait`` says, while the article's retry budget lasts."""
        return AsyncRetrying(
            stop=stop_any(
                stop_after_attempt(1 + self.settings.retry.transport_retries),
                _StopWhen(lambda state: self.meter.retry_budget <= 0),
            ),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            before_sleep=self._spend_retry,
            reraise=True,
            sleep=self._engine.sleep,
        )

    def _wait(self, state: RetryCallState) -> float:
        return policy_wait(self.settings.retry)(state)

    def _spend_retry(self, state: RetryCallState) -> None:
        self.meter.retry_budget -= 1
        self.meter.retries += 1
        failure = state.outcome.exception() if state.outcome else None
        self._next = ("retry", _failure(failure))
        hinted = _retry_after(failure)
        cap = self.settings.retry.backoff_max
        if hinted is not None and hinted > cap:
            self._waited_past_cap = hinted
            log.warning(
                "%s asked to wait %gs (Retry-After); waiting %gs, the most this client waits",
                self.settings.base_url,
                hinted,
                cap,
            )

    def _check_spending(self) -> None:
        """Raises BudgetError before a request the article's or the run's budget cannot pay."""
        cap = self.settings.max_tokens_per_article
        if cap is not None and self.meter.total_tokens >= cap:
            raise BudgetError(
                f"the article used {self.meter.total_tokens:,} tokens, reaching "
                f"--max-tokens-per-article {cap:,}; raise it and re-run the same command to "
                "finish this article"
            )
        if self._engine.spend is not None:
            self._engine.spend.check()

    async def _post(self, payload: bytes, tokens: int) -> dict[str, Any]:
        """One HTTP request under the rate limits, timed, charged, counted and logged.

        Raises:
            openai.OpenAIError: the request failed (the transport retries decide what next).
            ConfigError: the answer is not JSON (a web page where the API should be).
            BackendError: the answer's token counts cannot be trusted.
            BudgetError, RunStopped: a spending limit was reached, or the server is taken for
                gone after too many connection failures in a row.
        """
        self._check_spending()
        self.meter.requests += 1
        limiter = self._engine.limiter
        ticket = await limiter.aacquire(tokens) if limiter is not None else None
        kind, reason = self._next
        self._attempt += 1
        status, usage = "error", (0, 0)
        started = time.monotonic()
        try:
            answer, usage = await self._exchange(payload, ticket)
            status = "200"
            return answer
        except Exception as exc:
            status = _failure(exc)
            raise
        finally:
            if requestlog.listening():
                requestlog.emit(
                    requestlog.RequestEvent(
                        article=self._article,
                        step=self._step,
                        attempt=self._attempt,
                        kind=kind,
                        reason=reason,
                        status=status,
                        prompt_tokens=usage[0],
                        completion_tokens=usage[1],
                        latency_ms=round((time.monotonic() - started) * 1000, 1),
                    )
                )

    async def _exchange(
        self, payload: bytes, ticket: list[float] | None
    ) -> tuple[dict[str, Any], tuple[int, int]]:
        """The HTTP exchange of ``_post``: the answer and its prompt and completion tokens."""
        engine = self._engine
        started = time.monotonic()
        try:
            http = await engine.post(payload)
        except openai.APITimeoutError:
            raise
        except openai.APIConnectionError:
            await engine.unreachable()
            raise
        except openai.APIStatusError:
            engine.breaker.answered()
            raise
        finally:
            self.meter.seconds += time.monotonic() - started
        engine.breaker.answered()
        try:
            answer = json.loads(http.content)
        except ValueError:
            raise _not_json(engine.url, http, self.settings.api_key) from None
        if not isinstance(answer, dict):
            raise _not_json(engine.url, http, self.settings.api_key)
        usage = read_usage(answer.get("usage"), engine.url)
        self.meter.prompt_tokens += usage[0]
        self.meter.completion_tokens += usage[1]
        if ticket is not None and engine.limiter is not None:
            engine.limiter.settle(ticket, sum(usage))
        if engine.spend is not None:
            engine.spend.charge(*usage)
        return answer, usage

    def _backend_error(self, exc: openai.OpenAIError) -> BackendError | ConfigError:
        url = self.settings.base_url
        tries = 1 + self.settings.retry.transport_retries
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(
                f"{url} did not answer within {self.settings.timeout:g}s ({tries} tries); raise "
                "EXTRACTOR_TIMEOUT or use a faster model"
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(
                f"cannot reach {url} ({tries} tries): is the server running? Check --base-url / "
                "OPENAI_BASE_URL"
            )
        if isinstance(exc, openai.AuthenticationError):
            return ConfigError(f"{url} refused the API key (HTTP 401); set OPENAI_API_KEY")
        if isinstance(exc, openai.NotFoundError):
            return ConfigError(
                f"{url} does not know model {self.settings.model!r} (HTTP 404); "
                "pick one with --model"
            )
        if isinstance(exc, openai.APIStatusError):
            # The server's words are kept (record, stderr, database): an echo of the request's
            # headers there must not carry the key.
            detail = masked(exc.response.text, self.settings.api_key)[:300].replace("\n", " ")
            if exc.status_code < 500 and exc.status_code != 429:
                return ConfigError(
                    f"{url} rejected the request (HTTP {exc.status_code}): {detail}; "
                    f"check --model and --mode (now {self._engine.mode})"
                )
            asked = (
                f"; it asked to wait {self._waited_past_cap:g}s (Retry-After), more than the "
                f"{self.settings.retry.backoff_max:g}s this client waits, so it was asked again "
                "sooner: lower --rpm or run the same command later"
                if self._waited_past_cap is not None
                else ""
            )
            return BackendError(
                f"{url} kept failing (HTTP {exc.status_code}) after {tries} tries: {detail}{asked}"
            )
        return BackendError(masked(f"{url}: {exc}", self.settings.api_key))


def _cut_off(completion: ChatCompletion) -> bool:
    """The server ended the answer at max_tokens."""
    choices = getattr(completion, "choices", None) or []
    first: Any = choices[0] if choices else None
    reason = (
        first.get("finish_reason")
        if isinstance(first, dict)
        else getattr(first, "finish_reason", None)
    )
    return bool(reason == "length")


def _completion(answer: dict[str, Any], url: str | None = None) -> ChatCompletion:
    """The SDK's chat completion of a JSON answer; one that does not have the type's every
    field is built as leniently as the SDK builds one (validating costs a twentieth of that).

    A grammar-constrained server can put raw newlines or tabs inside JSON strings, which strict
    JSON parsers reject; between tokens they are plain whitespace, so they become spaces. What
    no record can hold (``storable``) is taken out of the answer.

    Raises:
        OutputError: the answer has no first choice with a message the client can read (a
            server's bug, not the model's: re-asking would get the same).
    """
    try:
        completion = ChatCompletion.model_validate(answer)
    except ValidationError:
        completion = ChatCompletion.model_construct(**answer)
    problem = _unreadable(completion)
    if problem is not None:
        raise OutputError(
            f"{url or 'the server'} answered HTTP 200 with no chat completion this client "
            f"can read ({problem}); fix the server, or use another"
        )
    message = completion.choices[0].message
    if isinstance(message.content, str):
        message.content = storable(message.content)
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        if isinstance(getattr(function, "arguments", None), str):
            function.arguments = storable(function.arguments)  # type: ignore[union-attr]
    return completion


def _unreadable(completion: ChatCompletion) -> str | None:
    """What keeps a leniently built completion from being read (None when nothing does): its
    first choice must be a choice whose message has text (or nothing) or tool calls with
    arguments, as the response parsers and re-ask handlers read them."""
    choices: Any = completion.__dict__.get("choices")
    if not isinstance(choices, list) or not choices:
        return f"choices is {_kind(choices)}, not a list of one choice or more"
    choice: Any = choices[0]
    if not isinstance(choice, BaseModel):
        return f"choices[0] is {_kind(choice)}, not a choice"
    message: Any = choice.__dict__.get("message")
    if not isinstance(message, BaseModel):
        return f"choices[0].message is {_kind(message)}, not a message"
    content: Any = message.__dict__.get("content")
    if content is not None and not isinstance(content, str):
        return f"choices[0].message.content is {_kind(content)}, not text"
    calls: Any = message.__dict__.get("tool_calls")
    if calls is None:
        return None
    if not isinstance(calls, list):
        return f"choices[0].message.tool_calls is {_kind(calls)}, not a list"
    for n, call in enumerate(calls):
        function = getattr(call, "function", None)
        if not isinstance(getattr(function, "arguments", None), str):
            return f"choices[0].message.tool_calls[{n}] has no function arguments as text"
    return None


def _kind(value: Any) -> str:
    """A value's JSON kind, for a message (``a string``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "an object"}
    if isinstance(value, list) and not value:
        return "an empty list"
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), "an object")


# JSON escapes of what no record can hold: NUL (PostgreSQL cannot store it in a text) and a lone
# UTF-16 surrogate (no character: UTF-8 cannot write it, so no record line could be). An escaped
# backslash is matched first, so ``\\u0000`` (a backslash, then the letters) stays text; a
# surrogate pair (one character) is matched whole and kept.
_UNSTORABLE_ESCAPE = re.compile(
    r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unescape_unstorable(match: re.Match[str]) -> str:
    lone = match.group(1)
    if lone is None:
        return match.group(0)
    return "" if lone == "0000" else "\\ufffd"


def storable(content: str) -> str:
    """An answer's text with nothing a record cannot hold: raw control characters become
    spaces (NUL among them), a NUL written as a JSON escape is dropped, and a lone surrogate,
    raw or escaped, becomes U+FFFD (the replacement character)."""
    content = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", content))
    return _UNSTORABLE_ESCAPE.sub(_unescape_unstorable, content)


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


def answer_of(
    response_model: type[M],
    body: dict[str, Any],
    *,
    context: dict[str, Any] | None = None,
    max_tokens: int,
    meter: Meter,
) -> Outcome[M]:
    """Validate a chat completion that came back outside the online path (a batch result) the
    way ``ArticleAsker.ask`` validates one with no re-ask left: accepted when it validates, else
    salvaged with the reason. ``meter`` is what the request cost (its usage, as ``read_usage``
    read it).

    Raises:
        OutputError: the body is not a chat completion, or nothing in it has the schema's shape.
    """
    try:
        completion = ChatCompletion.model_validate(body)
    except ValidationError:
        raise OutputError("the result is not a chat completion") from None
    content = _message_content(completion)
    if not content:
        raise OutputError("the answer is empty")
    content = storable(content)
    finish = completion.choices[0].finish_reason if completion.choices else None
    problem = None
    if finish == "length":  # a batch answer cannot be asked again
        meter.cut_off += 1
        meter.kept_cut += 1
        problem = f"the answer was cut off at max_tokens={max_tokens}"
    else:
        try:
            draft = response_model.model_validate_json(
                _json_text(content), context=context, strict=False
            )
            return Outcome(draft=draft, grounded=True, meter=meter)
        except ValidationError as exc:
            problem = f"the answer did not validate (a batch answer is not re-asked): {exc}"
    try:
        draft, pruned = salvage(content, response_model)
    except OutputError as exc:
        raise OutputError(f"{problem}, and {exc}") from None
    return Outcome(draft=draft, grounded=False, meter=meter, problem=problem, pruned=pruned)


def describe_usage(meter: Meter) -> dict[str, int]:
    """The usage block of a record."""
    return {
        "prompt_tokens": meter.prompt_tokens,
        "completion_tokens": meter.completion_tokens,
        "total_tokens": meter.total_tokens,
        "requests": meter.requests,
        "cut_off": meter.cut_off,
    }


__all__ = [
    "ArticleAsker",
    "AsyncEngine",
    "Breaker",
    "Engine",
    "Meter",
    "Outcome",
    "answer_of",
    "describe_usage",
    "in_flight",
    "read_usage",
    "salvage",
]
