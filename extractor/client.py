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
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

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

from .config import Mode, RetryPolicy, Settings
from .errors import BackendError, BudgetError, ConfigError, OutputError, RunStopped
from .prompting import Message
from .schemas import ArticleDraft
from .spending import RateLimiter, Spend

# instructor logs every failed attempt at ERROR; this module reports failures itself (records and
# exceptions), so keep those lines off stderr unless the application configures logging.
logging.getLogger("instructor").addHandler(logging.NullHandler())

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


@dataclass
class Meter:
    """Requests and tokens spent on one article, every attempt included.

    ``retries`` (transport) and ``reasks`` (validation) both draw on ``retry_budget``, the
    extra requests the article may still make; ``seconds`` is the time spent waiting on HTTP.
    """

    requests: int = 0
    responses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    reasks: int = 0
    retry_budget: int = 0
    seconds: float = 0.0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


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


@dataclass
class Outcome(Generic[M]):
    """What the model produced for one article.

    ``draft`` passed grounding validation when ``grounded`` is true. Otherwise it is the last
    answer, parsed for shape only (``problem`` says why it was not accepted as it stood: re-asks
    exhausted, or cut off at max_tokens), and ``pruned`` lists the items of that answer that did
    not even have the schema's shape, as (path in the answer, value).
    """

    draft: M
    grounded: bool
    meter: Meter
    problem: str | None = None
    pruned: list[tuple[str, Any]] = field(default_factory=list)


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
    ) -> None:
        """
        Args:
            settings: the run's settings; ``base_url`` must be set.
            http_client: the transport seam (tests pass a mock transport).
            sleep: what backoff waits with (tests record the waits instead).
            limiter: request and token rate limits shared by every engine of the run.
            spend: the run's token account and budget, shared by every engine of the run.
        """
        if settings.base_url is None:
            raise ConfigError("no server to talk to: start the embedded server or give --base-url")
        self.settings = settings
        self.mode: Mode = settings.resolved_mode()
        self._openai = openai.OpenAI(
            base_url=settings.base_url,
            # Local servers ignore the key, but the SDK insists on one.
            api_key=settings.api_key or "not-needed",
            max_retries=0,
            timeout=settings.timeout,
            http_client=http_client,
        )
        self._sleep = sleep
        self._limiter = limiter
        self._spend = spend
        self._meter = Meter(retry_budget=settings.retry.budget)
        self._sends_in_ask = 0
        self._create = instructor.patch(create=self._send, mode=_INSTRUCTOR_MODES[self.mode])

    def close(self) -> None:
        self._openai.close()

    @property
    def last_meter(self) -> Meter:
        """Requests and tokens since ``start_article()``, failed ones included."""
        return self._meter

    def start_article(self) -> None:
        """Start counting requests, tokens and the retry budget for a new article."""
        self._meter = Meter(retry_budget=self.settings.retry.budget)

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
        """One HTTP request under the rate limits, timed and charged; ``raw`` sends ``kwargs``
        as the JSON body itself and returns the JSON answer."""
        self._check_spending()
        self._meter.requests += 1
        ticket = None
        if self._limiter is not None:
            # About three characters a token, plus all the answer may use.
            chars = sum(len(str(m.get("content", ""))) for m in kwargs.get("messages", []))
            ticket = self._limiter.acquire(chars // 3 + int(kwargs.get("max_tokens") or 0))
        started = time.monotonic()
        try:
            if raw:
                response = self._openai.post("/chat/completions", body=kwargs, cast_to=object)
            else:
                response = self._openai.chat.completions.create(**kwargs)
        finally:
            self._meter.seconds += time.monotonic() - started
        if raw:
            usage = response.get("usage") if isinstance(response, dict) else None
            prompt = int((usage or {}).get("prompt_tokens") or 0)
            completion = int((usage or {}).get("completion_tokens") or 0)
        else:
            usage = getattr(response, "usage", None)
            prompt = (usage.prompt_tokens or 0) if usage is not None else 0
            completion = (usage.completion_tokens or 0) if usage is not None else 0
        if ticket is not None and self._limiter is not None:
            self._limiter.settle(ticket, prompt + completion)
        if self._spend is not None:
            self._spend.charge(prompt, completion)
        return response

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

    def post_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """Send a prepared chat-completion body as it stands (a batch file's request) under the
        same transport retries, rate limits and budgets as ``ask``; the server's JSON answer.

        Raises:
            openai.APIStatusError: the server refused it, or kept failing past the retries.
            openai.APIConnectionError: it could not be reached in time, past the retries.
            BudgetError, RunStopped: a spending limit was reached.
        """
        answer: dict[str, Any] = {}
        for attempt in self._retrying():
            with attempt:
                answer = self._post(body, raw=True)
        self._meter.responses += 1
        usage = answer.get("usage") if isinstance(answer, dict) else None
        self._meter.prompt_tokens += int((usage or {}).get("prompt_tokens") or 0)
        self._meter.completion_tokens += int((usage or {}).get("completion_tokens") or 0)
        return answer

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
        self._sends_in_ask += 1
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
        usage = getattr(response, "usage", None)
        if usage is not None:
            self._meter.prompt_tokens += usage.prompt_tokens or 0
            self._meter.completion_tokens += usage.completion_tokens or 0
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
        return self.ask(ArticleDraft, messages, context={"text": text})

    def ask(
        self,
        response_model: type[M],
        messages: list[Message],
        *,
        context: dict[str, Any] | None = None,
        max_tokens: int | None = None,
    ) -> Outcome[M]:
        """Ask for one ``response_model``, validated with ``context``, under the retry policy.

        An answer that fails validation is re-asked up to ``max_reasks`` times; after the last,
        it is parsed for shape only (``Outcome.grounded`` false). An answer cut off at
        ``max_tokens`` is not re-asked (it would be cut off again): what it holds is salvaged.

        Raises:
            BackendError, ConfigError, OutputError: as for ``extract``.
        """
        limit = max_tokens or self.settings.max_tokens
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
            if isinstance(cause, BudgetError | RunStopped):
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
            return BackendError(
                f"{url} kept failing (HTTP {exc.status_code}) after "
                f"{1 + self.settings.retry.transport_retries} tries: {detail}"
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

        no_retries = RetryPolicy(max_reasks=0, transport_retries=0, budget=0)
        kept = replace(
            settings,
            base_url=settings.base_url or "http://batch.invalid/v1",
            mode=settings.resolved_mode(),  # as chosen for the server it is meant for
            retry=no_retries,
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
    usage = completion.usage
    meter = Meter(
        requests=1,
        responses=1,
        prompt_tokens=usage.prompt_tokens if usage else 0,
        completion_tokens=usage.completion_tokens if usage else 0,
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
