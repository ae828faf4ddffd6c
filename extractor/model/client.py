"""The engine: the one place that builds the OpenAI client and turns a chat request into a
validated draft.

Every model call goes through ``openai.AsyncOpenAI`` to an OpenAI-compatible endpoint. The retry
policy (``config.RetryPolicy``, applied as ``retry`` says) holds here and nowhere else: SDK
retries off, tenacity around each HTTP request for transport failures, and for an answer that
fails validation a re-ask built by instructor's re-ask handler for the mode, the answer parsed
and validated by instructor's response parser (``parsing``). The request bodies are
``bodies.chat_body``'s, so the schema of an answer model is built once, not on every request.

``AsyncEngine`` holds what every request of a run shares: the client over its connection pools
and circuit breaker (``transport``), the rate limits, the spending and the embedded server it
may start or revive (``embedded``). ``AsyncEngine.article`` gives an ``ArticleAsker``, which
asks one article's questions and keeps its meter, retry budget and request-log state, so one
engine keeps hundreds of articles in flight on one event loop. Synchronous callers use
``sync.Engine``, which runs an ``AsyncEngine`` on a loop of its own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2
import instructor
import openai
from instructor.core.exceptions import IncompleteOutputException
from instructor.v2 import Provider, mode_registry
from openai.types.chat import ChatCompletion
from pydantic import BaseModel
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
)

from ..config import Mode, Settings, masked
from ..core.answers import Meter, Outcome
from ..core.build import validation_context
from ..core.prompting import Message
from ..errors import BackendError, BudgetError, ConfigError, OutputError, RunStopped
from ..schemas import ArticleDraft
from . import embedded, requestlog
from .bodies import chat_body, encode
from .parsing import INVALID, cut_off, message_content, parsed_completion, read_usage, salvage
from .retry import StopWhen, failure_of, is_transient, policy_wait, retry_after
from .spending import RateLimiter, Spend
from .transport import Breaker, Pools, not_json, read_capped

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


M = TypeVar("M", bound=BaseModel)


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
                SDK's client over pools of connections (``Pools``).
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
        self._http = http_client or openai.DefaultAsyncHttpxClient(transport=Pools())
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
                    response = await read_capped(streamed, self.url)
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
                completion = parsed_completion(await self._send(body), self._engine.url)
                while cut_off(completion) and (larger := self._larger(limit)) is not None:
                    self._next = ("reask", f"cut off at max_tokens={limit}; asked with {larger}")
                    limit, body = larger, {**body, "max_tokens": larger}
                    completion = parsed_completion(await self._send(body), self._engine.url)
            except openai.OpenAIError as exc:
                raise self._backend_error(exc) from exc
            if cut_off(completion):
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
                content = message_content(completion)
                problem = f"the answer was cut off at max_tokens={limit}"
                if not content:
                    raise OutputError(f"{problem} before it said anything") from None
                return self._salvaged(response_model, completion, problem, answers + 1)
            except INVALID as exc:
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
        content = message_content(completion)
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
                StopWhen(lambda state: self.meter.retry_budget <= 0),
            ),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
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
        self._next = ("retry", failure_of(failure))
        hinted = retry_after(failure)
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
            status = failure_of(exc)
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
            raise not_json(engine.url, http, self.settings.api_key) from None
        if not isinstance(answer, dict):
            raise not_json(engine.url, http, self.settings.api_key)
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


__all__ = ["ArticleAsker", "AsyncEngine"]
