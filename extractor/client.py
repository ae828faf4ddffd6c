"""The one place that builds the OpenAI client and turns a chat request into a validated draft.

Every model call goes through the OpenAI SDK to an OpenAI-compatible endpoint. The retry policy
(``config.RetryPolicy``) is applied here and nowhere else: SDK retries off, tenacity around each
HTTP request for transport failures, instructor's re-ask for answers that fail validation.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpcore2
import httpx2
import instructor
import jiter
import openai
from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from . import embedded, requestlog
from .answers import Meter, Outcome
from .build import validation_context
from .config import Mode, Settings
from .errors import (
    BackendError,
    BudgetError,
    ConfigError,
    ExtractorError,
    OutputError,
    RunStopped,
)
from .prompting import Message
from .schemas import ArticleDraft
from .spending import RateLimiter, Spend

# instructor logs every failed attempt at ERROR; this module reports failures itself (records and
# exceptions), so keep those lines off stderr unless the application configures logging.
logging.getLogger("instructor").addHandler(logging.NullHandler())
log = logging.getLogger(__name__)

_INSTRUCTOR_MODES: dict[str, instructor.Mode] = {
    "json_schema": instructor.Mode.JSON_SCHEMA,
    # JSON_SCHEMA keeps the schema out of the prompt (the server's grammar enforces it, and the
    # prompt is most of this small model's time); its response_format is replaced, see
    # request_options().
    "llamacpp": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "tools": instructor.Mode.TOOLS_STRICT,
}

# Strings the model writes are capped in the grammar the embedded server decodes with, so a small
# model that starts repeating itself stops at a bounded length instead of at max_tokens.
STRING_CAP = 300


class _StopWhen(stop_base):
    """A tenacity stop condition from a predicate (tenacity types only its own classes)."""

    def __init__(self, predicate: Callable[[RetryCallState], bool]) -> None:
        self._predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._predicate(retry_state)


class _ValidationOnly(dict[str, Any]):
    """A validation context instructor passes to the validators but does not render the messages
    with: given a truthy context, instructor treats every message as a Jinja template, and an
    article is not one (``{{ 7*7 }}`` in an article would reach the model as ``49``)."""

    def __bool__(self) -> bool:
        return False


class _RetryBudgetSpent(Exception):
    """Raised in place of a re-ask when the article's retry budget is spent."""


M = TypeVar("M", bound=BaseModel)


def bounded_schema(schema: dict[str, Any], cap: int = STRING_CAP) -> dict[str, Any]:
    """A copy of a JSON Schema with ``maxLength`` added to every string that has none."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: walk(value) for key, value in node.items()}
            closed = "enum" in out or "const" in out
            if out.get("type") == "string" and not closed and "maxLength" not in out:
                out["maxLength"] = cap
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


@functools.lru_cache(maxsize=256)
def _request_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The bounded schema of an answer model, built once per model: building it costs more
    CPU than the rest of a request's client-side work."""
    return bounded_schema(model.model_json_schema())


class Deadline:
    """The end of the request each thread has in flight, and a network backend that holds every
    connect, read and write to it.

    httpx2's timeouts bound each socket operation, so a server that sends a byte now and then
    keeps a request going for ever; with this backend under the connection pool, ``--timeout``
    bounds the whole request: connecting, sending, waiting and reading the answer.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    @contextlib.contextmanager
    def within(self, seconds: float) -> Iterator[None]:
        """Requests made by this thread inside the block end within ``seconds`` in all."""
        self._local.until = time.monotonic() + seconds
        try:
            yield
        finally:
            self._local.until = None

    def bound(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """``timeout`` for one socket operation, cut to what is left of the request.

        Raises:
            expired: nothing is left.
        """
        until: float | None = getattr(self._local, "until", None)
        if until is None:
            return timeout
        left = until - time.monotonic()
        if left <= 0:
            raise expired("the request ran past its deadline (--timeout)")
        return left if timeout is None else min(timeout, left)

    def transport(self) -> httpx2.HTTPTransport:
        """An HTTP transport whose connections keep to this deadline."""
        transport = httpx2.HTTPTransport()
        # HTTPTransport takes no network backend of its own: its pool is built again with one.
        transport._pool = httpcore2.ConnectionPool(
            ssl_context=httpx2.create_ssl_context(),
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=_DeadlineBackend(self),
        )
        return transport


class _DeadlineStream(httpcore2.NetworkStream):
    def __init__(self, inner: httpcore2.NetworkStream, deadline: Deadline) -> None:
        self._inner, self._deadline = inner, deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._deadline.bound(timeout, httpcore2.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._deadline.bound(timeout, httpcore2.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore2.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore2.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, bounded), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore2.NetworkBackend):
    def __init__(self, deadline: Deadline) -> None:
        self._inner = httpcore2.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore2.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore2.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, bounded, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore2.NetworkStream:
        bounded = self._deadline.bound(timeout, httpcore2.ConnectTimeout)
        stream = self._inner.connect_unix_socket(path, bounded, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


class Breaker:
    """Connection failures in a row, across every engine of a run: at ``limit`` (0: never) the
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


def _not_json(url: str | None, response: httpx2.Response) -> ConfigError:
    kind = response.headers.get("content-type") or "no content type"
    start = response.content[:80].decode("utf-8", errors="replace")
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


class Engine:
    """Sends extraction requests to one OpenAI-compatible server under the retry policy."""

    def __init__(
        self,
        settings: Settings,
        *,
        http_client: httpx2.Client | None = None,
        sleep: Callable[[float], None] | None = None,
        limiter: RateLimiter | None = None,
        spend: Spend | None = None,
        breaker: Breaker | None = None,
        revive: Callable[[], bool] | None = None,
    ) -> None:
        """
        Args:
            settings: the run's settings; ``base_url`` must be set.
            http_client: the transport seam (tests pass a mock transport); by default every
                request is held to ``settings.timeout`` in all (``Deadline``).
            sleep: what backoff waits with (tests record the waits instead).
            limiter: request and token rate limits shared by every engine of the run.
            spend: the run's token account and budget, shared by every engine of the run.
            breaker: the run's count of connection failures in a row, shared likewise (by
                default the engine's own, from ``settings.retry.connection_failures``).
            revive: called when the server cannot be reached; starts it again if it died
                (true when it did). By default the embedded server's, when this process
                started the server at ``settings.base_url``.
        """
        if settings.base_url is None:
            raise ConfigError("no server to talk to: start the embedded server or give --base-url")
        self.settings = settings
        self.mode: Mode = settings.resolved_mode()
        self._deadline = Deadline()
        self._openai = openai.OpenAI(
            base_url=settings.base_url,
            # Local servers ignore the key, but the SDK insists on one.
            api_key=settings.api_key or "not-needed",
            max_retries=0,
            timeout=settings.timeout,
            http_client=http_client
            or openai.DefaultHttpxClient(transport=self._deadline.transport()),
        )
        self._sleep = sleep
        self._limiter = limiter
        self._spend = spend
        self._breaker = breaker or Breaker(settings.retry.connection_failures)
        self._revive = revive if revive is not None else embedded.reviver(settings.base_url)
        self._meter = Meter(retry_budget=settings.retry.budget)
        self._sends_in_ask = 0
        # What the request log says of the next request: article, plan step, attempt, kind.
        self._article = ""
        self._step = ""
        self._attempt = 0
        self._next: tuple[requestlog.Kind, str] = ("first", "")
        self._last_usage = (0, 0)
        self._waited_past_cap: float | None = None
        self._create = instructor.patch(create=self._send, mode=_INSTRUCTOR_MODES[self.mode])

    def close(self) -> None:
        self._openai.close()

    @property
    def last_meter(self) -> Meter:
        """Requests and tokens since ``start_article()``, failed ones included."""
        return self._meter

    def start_article(self, article_id: str = "") -> None:
        """Start counting requests, tokens and the retry budget for a new article (its id goes
        into the request log)."""
        self._meter = Meter(retry_budget=self.settings.retry.budget)
        self._article = article_id

    def _start_step(self, step: str) -> None:
        self._step, self._attempt, self._next = step, 0, ("first", "")

    def _wait(self, state: RetryCallState) -> float:
        policy = self.settings.retry
        backoff = wait_exponential_jitter(initial=policy.backoff_initial, max=policy.backoff_max)
        hinted = _retry_after(state.outcome.exception() if state.outcome else None)
        return min(hinted, policy.backoff_max) if hinted is not None else backoff(state)

    def _budget_spent(self, state: RetryCallState) -> bool:
        return self._meter.retry_budget <= 0

    def _spend_retry(self, state: RetryCallState) -> None:
        self._meter.retry_budget -= 1
        self._meter.retries += 1
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
        if cap is not None and self._meter.total_tokens >= cap:
            raise BudgetError(
                f"the article used {self._meter.total_tokens:,} tokens, reaching "
                f"--max-tokens-per-article {cap:,}; raise it and re-run the same command to "
                "finish this article"
            )
        if self._spend is not None:
            self._spend.check()

    def _post(self, kwargs: dict[str, Any], *, raw: bool = False) -> Any:
        """One HTTP request under the rate limits, timed, charged and counted; ``raw`` sends
        ``kwargs`` as the JSON body itself and returns the JSON answer.

        Raises:
            openai.OpenAIError: the request failed (the transport retries decide what next).
            ConfigError: the answer is not JSON (a web page where the API should be).
            BackendError: the answer's token counts cannot be trusted.
            BudgetError, RunStopped: a spending limit was reached, or the server is taken for
                gone after too many connection failures in a row.
        """
        self._check_spending()
        self._meter.requests += 1
        ticket = None
        if self._limiter is not None:
            # About three characters a token, plus all the answer may use.
            chars = sum(len(str(m.get("content", ""))) for m in kwargs.get("messages", []))
            ticket = self._limiter.acquire(chars // 3 + int(kwargs.get("max_tokens") or 0))
        kind, reason = self._next
        self._attempt += 1
        status, prompt, completion = "error", 0, 0
        started = time.monotonic()
        try:
            response = self._exchange(kwargs, raw, ticket)
            status = "200"
            return response
        except Exception as exc:
            status = _failure(exc)
            raise
        finally:
            if requestlog.listening():
                prompt, completion = self._last_usage
                requestlog.emit(
                    requestlog.RequestEvent(
                        article=self._article,
                        step=self._step,
                        attempt=self._attempt,
                        kind=kind,
                        reason=reason,
                        status=status,
                        prompt_tokens=prompt,
                        completion_tokens=completion,
                        latency_ms=round((time.monotonic() - started) * 1000, 1),
                    )
                )

    def _exchange(self, kwargs: dict[str, Any], raw: bool, ticket: Any) -> Any:
        """The HTTP exchange of ``_post``: send, read, check and charge the answer."""
        self._last_usage = (0, 0)
        started = time.monotonic()
        try:
            with self._deadline.within(self.settings.timeout):
                if raw:
                    http = self._openai.post(
                        "/chat/completions", body=kwargs, cast_to=httpx2.Response
                    )
                else:
                    answer = self._openai.chat.completions.with_raw_response.create(**kwargs)
                    http = answer.http_response
        except openai.APITimeoutError:
            raise
        except openai.APIConnectionError:
            self._unreachable()
            raise
        except openai.APIStatusError:
            self._breaker.answered()
            raise
        finally:
            self._meter.seconds += time.monotonic() - started
        self._breaker.answered()
        try:
            response = http.json() if raw else answer.parse()
        except ValueError:
            raise _not_json(self.settings.base_url, http) from None
        if isinstance(response, str) or (raw and not isinstance(response, dict)):
            raise _not_json(self.settings.base_url, http)
        usage = response.get("usage") if raw else getattr(response, "usage", None)
        prompt, completion = read_usage(usage, self.settings.base_url)
        self._last_usage = (prompt, completion)
        self._meter.prompt_tokens += prompt
        self._meter.completion_tokens += completion
        if ticket is not None and self._limiter is not None:
            self._limiter.settle(ticket, prompt + completion)
        if self._spend is not None:
            self._spend.charge(prompt, completion)
        return response

    def _unreachable(self) -> None:
        """A request could not reach the server: start it again if it died (the embedded
        server), and stop the run once too many requests in a row have failed so.

        Raises:
            RunStopped: the limit of connection failures in a row is reached.
        """
        if self._revive is not None:
            self._revive()
        if self._breaker.failed():
            why = (
                f"{self._breaker.limit} requests in a row could not reach "
                f"{self.settings.base_url}; start the server (or fix --base-url) and run the "
                "same command again to finish (--max-connection-failures sets the limit)"
            )
            if self._spend is not None:
                self._spend.halt(why)
            raise RunStopped(why)

    def _retrying(self) -> Retrying:
        """The transport retries of one request: on connection errors, timeouts, 429 and 5xx,
        waiting as ``_wait`` says, while the article's retry budget lasts."""
        return Retrying(
            stop=stop_any(
                stop_after_attempt(1 + self.settings.retry.transport_retries),
                _StopWhen(self._budget_spent),
            ),
            wait=self._wait,
            retry=retry_if_exception(_is_transient),
            before_sleep=self._spend_retry,
            reraise=True,
            sleep=self._sleep or (self._spend.sleep if self._spend else time.sleep),
        )

    def post_body(self, body: dict[str, Any], *, step: str = "") -> dict[str, Any]:
        """Send a prepared chat-completion body as it stands (a batch file's request) under the
        same transport retries, rate limits and budgets as ``ask``; the server's JSON answer.

        Raises:
            openai.APIStatusError: the server refused it, or kept failing past the retries.
            openai.APIConnectionError: it could not be reached in time, past the retries.
            BudgetError, RunStopped: a spending limit was reached.
        """
        answer: dict[str, Any] = {}
        self._waited_past_cap = None
        self._start_step(step)
        for attempt in self._retrying():
            with attempt:
                answer = self._post(body, raw=True)
        self._meter.responses += 1
        return answer

    def _attempt_reask(self, kwargs: dict[str, Any]) -> None:
        """The next request is a re-ask: its reason is the validation error instructor put
        into the last message."""
        messages = kwargs.get("messages") or [{}]
        said = str(messages[-1].get("content", "")) if isinstance(messages[-1], dict) else ""
        self._next = ("reask", " ".join(said.split())[:300])

    def _send(self, **kwargs: Any) -> Any:
        """One chat completion, retried on transport failures; counts requests and tokens.

        Every call after the first within one ``ask`` is a re-ask; it and every transport retry
        draw on the article's retry budget.
        """
        if self._sends_in_ask > 0:
            if self._meter.retry_budget <= 0:
                raise _RetryBudgetSpent
            self._meter.retry_budget -= 1
            self._meter.reasks += 1
            self._attempt_reask(kwargs)
        self._sends_in_ask += 1
        self._waited_past_cap = None
        for attempt in self._retrying():
            with attempt:
                response = self._post(kwargs)
        self._meter.responses += 1
        for choice in getattr(response, "choices", None) or []:
            content = getattr(choice.message, "content", None)
            if isinstance(content, str):
                # A grammar-constrained server can put raw newlines or tabs inside JSON strings,
                # which strict JSON parsers reject; between tokens they are plain whitespace.
                choice.message.content = _CONTROL.sub(" ", content)
        return response

    def request_options(
        self, response_model: type[BaseModel] = ArticleDraft, max_tokens: int | None = None
    ) -> dict[str, Any]:
        """The generation parameters sent with a request (part of what a cassette matches)."""
        options: dict[str, Any] = {
            "model": self.settings.model,
            "temperature": self.settings.temperature,
            "max_tokens": max_tokens or self.settings.max_tokens,
            "seed": self.settings.seed,
        }
        if self.mode == "llamacpp":
            schema = _request_schema(response_model)
            options["extra_body"] = {"response_format": {"type": "json_object", "schema": schema}}
        return options

    def extract(self, messages: list[Message], text: str) -> Outcome[ArticleDraft]:
        """Ask for an ``ArticleDraft`` of ``text`` and validate that its quotes are in ``text``.

        Raises:
            BackendError: the server failed past the transport retries.
            ConfigError: the server refused the request for a reason the user must fix
                (authentication, unknown model, bad request).
            OutputError: no answer could even be parsed for shape.
        """
        return self.ask(ArticleDraft, messages, context=validation_context(text))

    def ask(
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

        An answer that fails validation is re-asked up to ``max_reasks`` times; after the last,
        it is parsed for shape only (``Outcome.grounded`` false). An answer cut off at
        ``max_tokens`` is not re-asked (it would be cut off again): what it holds is salvaged.

        Raises:
            BackendError, ConfigError, OutputError: as for ``extract``.
        """
        limit = max_tokens or self.settings.max_tokens
        self._start_step(step)
        self._sends_in_ask = 0
        try:
            draft = self._create(
                response_model=response_model,
                messages=messages,
                max_retries=self.settings.retry.max_reasks,
                context=_ValidationOnly(context) if context is not None else None,
                strict=False,
                **self.request_options(response_model, limit),
            )
        except IncompleteOutputException as exc:
            content = _message_content(exc.last_completion)
            problem = f"the answer was cut off at max_tokens={limit}"
            if not content:
                raise OutputError(f"{problem} before it said anything") from None
            return self._salvaged(response_model, content, problem)
        except InstructorRetryException as exc:
            cause = exc.__cause__
            if isinstance(cause, openai.OpenAIError):
                raise self._backend_error(cause) from cause
            if isinstance(cause, ExtractorError):
                raise cause from None
            content = _message_content(exc.last_completion)
            if content is None:
                raise OutputError(f"no usable answer after {exc.n_attempts} attempt(s)") from None
            if isinstance(cause, _RetryBudgetSpent):
                problem = (
                    f"the article's retry budget ({self.settings.retry.budget}) was spent; "
                    "the last answer is kept as it stands"
                )
            else:
                problem = f"re-asks exhausted after {exc.n_attempts} answer(s): {cause or exc}"
            return self._salvaged(response_model, content, problem)
        return Outcome(draft=draft, grounded=True, meter=self._meter)

    def _salvaged(self, model: type[M], content: str, problem: str) -> Outcome[M]:
        try:
            draft, pruned = salvage(content, model)
        except OutputError as exc:
            raise OutputError(f"{problem}, and {exc}") from None
        return Outcome(
            draft=draft, grounded=False, meter=self._meter, problem=problem, pruned=pruned
        )

    def _backend_error(self, exc: openai.OpenAIError) -> BackendError | ConfigError:
        url = self.settings.base_url
        if isinstance(exc, openai.APITimeoutError):
            return BackendError(
                f"{url} did not answer within {self.settings.timeout:g}s "
                f"({1 + self.settings.retry.transport_retries} tries); raise EXTRACTOR_TIMEOUT "
                "or use a faster model"
            )
        if isinstance(exc, openai.APIConnectionError):
            return BackendError(
                f"cannot reach {url} ({1 + self.settings.retry.transport_retries} tries): is the "
                "server running? Check --base-url / OPENAI_BASE_URL"
            )
        if isinstance(exc, openai.AuthenticationError):
            return ConfigError(f"{url} refused the API key (HTTP 401); set OPENAI_API_KEY")
        if isinstance(exc, openai.NotFoundError):
            return ConfigError(
                f"{url} does not know model {self.settings.model!r} (HTTP 404); "
                "pick one with --model"
            )
        if isinstance(exc, openai.APIStatusError):
            detail = exc.response.text[:300].replace("\n", " ")
            if exc.status_code < 500 and exc.status_code != 429:
                return ConfigError(
                    f"{url} rejected the request (HTTP {exc.status_code}): {detail}; "
                    f"check --model and --mode (now {self.mode})"
                )
            asked = (
                f"; it asked to wait {self._waited_past_cap:g}s (Retry-After), more than the "
                f"{self.settings.retry.backoff_max:g}s this client waits, so it was asked again "
                "sooner: lower --rpm or run the same command later"
                if self._waited_past_cap is not None
                else ""
            )
            return BackendError(
                f"{url} kept failing (HTTP {exc.status_code}) after "
                f"{1 + self.settings.retry.transport_retries} tries: {detail}{asked}"
            )
        return BackendError(f"{url}: {exc}")


class BodyRecorder:
    """The exact JSON bodies the online path sends, without sending them: an engine whose
    transport keeps each request's body and refuses it (for writing batch request files)."""

    def __init__(self, settings: Settings) -> None:
        self._bodies: list[dict[str, Any]] = []

        def keep(request: httpx2.Request) -> httpx2.Response:
            self._bodies.append(json.loads(request.content))
            return httpx2.Response(418, json={"error": {"message": "kept, not sent"}})

        kept = settings.model_copy(
            update={
                "base_url": settings.base_url or "http://batch.invalid/v1",
                "mode": settings.resolved_mode(),  # as chosen for the server it is meant for
                "max_reasks": 0,  # no retries
                "transport_retries": 0,
                "retry_budget": 0,
            }
        )
        self._engine = Engine(
            kept,
            http_client=httpx2.Client(transport=httpx2.MockTransport(keep)),
        )

    def body(
        self,
        response_model: type[BaseModel],
        messages: list[Message],
        *,
        context: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        self._bodies.clear()
        with contextlib.suppress(ConfigError):  # the refusal every request gets
            self._engine.ask(response_model, messages, context=context, max_tokens=max_tokens)
        (body,) = self._bodies
        return body

    def close(self) -> None:
        self._engine.close()


def answer_of(
    response_model: type[M],
    body: dict[str, Any],
    *,
    context: dict[str, Any] | None = None,
    max_tokens: int,
) -> Outcome[M]:
    """Validate a chat completion that came back outside the online path (a batch result) the
    way ``Engine.ask`` validates one with no re-ask left: accepted when it validates, else
    salvaged with the reason.

    Raises:
        OutputError: the body is not a chat completion, or nothing in it has the schema's shape.
    """
    try:
        completion = ChatCompletion.model_validate(body)
    except ValidationError:
        raise OutputError("the result is not a chat completion") from None
    try:
        prompt, completion_tokens = read_usage(completion.usage)
    except BackendError as exc:
        raise OutputError(str(exc)) from None
    meter = Meter(
        requests=1, responses=1, prompt_tokens=prompt, completion_tokens=completion_tokens
    )
    content = _message_content(completion)
    if not content:
        raise OutputError("the answer is empty")
    content = _CONTROL.sub(" ", content)
    finish = completion.choices[0].finish_reason if completion.choices else None
    problem = None
    if finish == "length":
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
    }


__all__ = [
    "BodyRecorder",
    "Engine",
    "Meter",
    "Outcome",
    "answer_of",
    "bounded_schema",
    "describe_usage",
]
