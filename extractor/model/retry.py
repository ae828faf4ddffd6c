"""The retry policy (``config.RetryPolicy``) as tenacity applies it: which failures are
transient, how long to wait (a server's Retry-After honoured up to the policy's cap), and the
synchronous calls of the Batch API wrapped in the same policy."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import openai
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)
from tenacity.stop import stop_base

from ..config import RetryPolicy, Settings

T = TypeVar("T")


class StopWhen(stop_base):
    """A tenacity stop condition from a predicate (tenacity types only its own classes)."""

    def __init__(self, predicate: Callable[[RetryCallState], bool]) -> None:
        self._predicate = predicate

    def __call__(self, retry_state: RetryCallState) -> bool:
        return self._predicate(retry_state)


def failure_of(exc: BaseException | None) -> str:
    """A short name for why a request failed, for the request log."""
    if isinstance(exc, openai.APIStatusError):
        return str(exc.status_code)
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection"
    return type(exc).__name__ if exc is not None else ""


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code == 429 or exc.status_code >= 500
    return False


def retry_after(exc: BaseException | None) -> float | None:
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
        hinted = retry_after(state.outcome.exception() if state.outcome else None)
        return min(hinted, policy.backoff_max) if hinted is not None else backoff(state)

    return wait


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
        retry=retry_if_exception(is_transient),
        reraise=True,
        sleep=sleep,
    ):
        with attempt:
            return call()
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover
