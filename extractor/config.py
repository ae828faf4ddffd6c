"""Resolve settings once, flag > environment variable > default, into one frozen object.

Environment variables: ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``, and ``EXTRACTOR_MODEL``,
``EXTRACTOR_MODE``, ``EXTRACTOR_PROMPT``, ``EXTRACTOR_STRATEGY``, ``EXTRACTOR_MAX_REASKS``,
``EXTRACTOR_TRANSPORT_RETRIES``, ``EXTRACTOR_RETRY_BUDGET``, ``EXTRACTOR_TIMEOUT``,
``EXTRACTOR_MAX_TOKENS``, ``EXTRACTOR_GGUF``, ``EXTRACTOR_MAX_CONNECTION_FAILURES``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, get_args
from urllib.parse import urlparse

from .errors import ConfigError

Mode = Literal["auto", "json_schema", "llamacpp", "json", "tools"]
MODES: tuple[str, ...] = get_args(Mode)

EMBEDDED_MODEL = "smollm2-135m-instruct"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_PROMPT = "extract-v1"  # the prompt of the one-call strategy, ``single``
DEFAULT_STRATEGY = "auto"  # names are checked by ``strategies.named``, where they live

# The password of a URL's user-info, up to the last "@" of the authority ("p@ss" included).
_PASSWORD_RE = re.compile(r"(?P<user>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@\s:]*):[^/?#\s]*@")


def masked(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``
    (``http://alice:***@host/v1``, ``postgresql://user:***@host/db``), for anything shown or
    stored: provenance, database rows, reports, manifests, messages and logs.

    A regular expression rather than ``urllib.parse``: it must find URLs inside free text (an
    error message quoting the server), which no URL parser does.
    """
    return _PASSWORD_RE.sub(r"\g<user>:***@", text)


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy: how many requests a failure may cost, stated in one place.

    The OpenAI SDK's own retries are off (``max_retries=0`` on the client). A request that fails
    in transport (connection error, timeout, HTTP 429 or 5xx) is retried up to
    ``transport_retries`` times with exponential backoff and jitter (tenacity); an answer that
    does not validate is re-asked up to ``max_reasks`` times (instructor), the validation error
    fed back to the model. Each re-ask is itself subject to the transport retries.

    Retries and re-asks draw on one shared ``budget`` per article: the extra requests an article
    may make beyond one per question, whatever caused them. Once it is spent, a transport
    failure fails the request and an invalid answer is kept as it stands (salvaged). A single
    request therefore costs at most ``(1 + max_reasks) * (1 + transport_retries)`` requests and
    an article at most its questions plus ``budget``.

    A server that cannot be reached at all stops the run: after ``connection_failures``
    requests in a row could not connect (0: never), the run ends resumably instead of spending
    every remaining article's retries on it.
    """

    max_reasks: int = 1
    transport_retries: int = 2
    budget: int = 8
    connection_failures: int = 10
    backoff_initial: float = 1.0
    backoff_max: float = 20.0

    @property
    def max_requests(self) -> int:
        return (1 + self.max_reasks) * (1 + self.transport_retries)


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know, resolved once.

    ``base_url`` None means: start the embedded server and use it.
    """

    base_url: str | None
    api_key: str | None
    model: str
    mode: Mode
    prompt_version: str | None = None  # None: the strategy's own
    strategy: str = DEFAULT_STRATEGY
    retry: RetryPolicy = RetryPolicy()
    timeout: float = 300.0
    max_tokens: int = 1024
    temperature: float = 0.0
    seed: int = 0
    gguf: str | None = None
    max_tokens_per_article: int | None = None

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    def with_base_url(self, base_url: str) -> Settings:
        """The same settings pointed at a server started for this run, keeping the mode chosen
        for the embedded backend."""
        return replace(self, base_url=base_url, mode=self.resolved_mode())

    def resolved_mode(self) -> Mode:
        """The structured-output mode to use with this backend when ``mode`` is ``auto``.

        The embedded llama-cpp-python server gets ``json_object`` with a schema (it answers
        ``json_schema`` with HTTP 500); any other server gets strict ``json_schema`` structured
        output, which OpenAI, vLLM, Ollama and llama.cpp's own server accept. A
        llama-cpp-python server started by hand needs ``--mode llamacpp``.
        """
        if self.mode != "auto":
            return self.mode
        return "llamacpp" if self.base_url is None else "json_schema"


def _int(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number; set it to e.g. 1") from None
    if number < 0:
        raise ConfigError(f"{name}={value!r} must not be negative")
    return number


def _float(value: str, name: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number; set it to e.g. 300") from None
    if number <= 0:
        raise ConfigError(f"{name}={value!r} must be positive")
    return number


def resolve(
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    model: str | None = None,
    mode: str | None = None,
    prompt_version: str | None = None,
    strategy: str | None = None,
    max_reasks: int | None = None,
    timeout: float | None = None,
    gguf: str | None = None,
    retry_budget: int | None = None,
    max_tokens_per_article: int | None = None,
    max_connection_failures: int | None = None,
    env: Mapping[str, str] | None = None,
) -> Settings:
    """Build the settings from command-line flags (None when not given) and the environment.

    The strategy name and the prompt version are checked by ``strategies.for_settings``, which
    knows the strategies.

    Raises:
        ConfigError: a value is malformed, e.g. a base URL that is not http(s), an unknown mode.
    """
    env = os.environ if env is None else env
    url = base_url or env.get("OPENAI_BASE_URL") or None
    if url is not None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ConfigError(
                f"base URL {masked(url)!r} is not an http(s) URL; give e.g. "
                "http://127.0.0.1:8000/v1"
            )
        url = url.rstrip("/")
    key = api_key or env.get("OPENAI_API_KEY") or None
    chosen_mode = mode or env.get("EXTRACTOR_MODE") or "auto"
    if chosen_mode not in MODES:
        raise ConfigError(f"unknown mode {chosen_mode!r}; choose one of {', '.join(MODES)}")
    chosen_strategy = strategy or env.get("EXTRACTOR_STRATEGY") or DEFAULT_STRATEGY
    default_model = EMBEDDED_MODEL if url is None else DEFAULT_OPENAI_MODEL
    reasks_env = env.get("EXTRACTOR_MAX_REASKS")
    reasks = (
        max_reasks
        if max_reasks is not None
        else (_int(reasks_env, "EXTRACTOR_MAX_REASKS") if reasks_env else RetryPolicy.max_reasks)
    )
    retries_env = env.get("EXTRACTOR_TRANSPORT_RETRIES")
    retries = (
        _int(retries_env, "EXTRACTOR_TRANSPORT_RETRIES")
        if retries_env
        else RetryPolicy.transport_retries
    )
    budget_env = env.get("EXTRACTOR_RETRY_BUDGET")
    budget = (
        retry_budget
        if retry_budget is not None
        else (_int(budget_env, "EXTRACTOR_RETRY_BUDGET") if budget_env else RetryPolicy.budget)
    )
    failures_env = env.get("EXTRACTOR_MAX_CONNECTION_FAILURES")
    failures = (
        max_connection_failures
        if max_connection_failures is not None
        else (
            _int(failures_env, "EXTRACTOR_MAX_CONNECTION_FAILURES")
            if failures_env
            else RetryPolicy.connection_failures
        )
    )
    timeout_env = env.get("EXTRACTOR_TIMEOUT")
    max_tokens_env = env.get("EXTRACTOR_MAX_TOKENS")
    return Settings(
        base_url=url,
        api_key=key,
        model=model or env.get("EXTRACTOR_MODEL") or default_model,
        mode=chosen_mode,  # type: ignore[arg-type]  # checked against MODES above
        prompt_version=prompt_version or env.get("EXTRACTOR_PROMPT") or None,
        strategy=chosen_strategy,
        retry=RetryPolicy(
            max_reasks=reasks,
            transport_retries=retries,
            budget=budget,
            connection_failures=failures,
        ),
        timeout=timeout
        if timeout is not None
        else (_float(timeout_env, "EXTRACTOR_TIMEOUT") if timeout_env else Settings.timeout),
        max_tokens=_int(max_tokens_env, "EXTRACTOR_MAX_TOKENS")
        if max_tokens_env
        else Settings.max_tokens,
        gguf=gguf or env.get("EXTRACTOR_GGUF") or None,
        max_tokens_per_article=max_tokens_per_article,
    )
