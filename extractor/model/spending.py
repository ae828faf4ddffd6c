"""What a run may spend and how fast: request and token rate limits, prices, the run's budget.

Pure bookkeeping shared by every request of one run, whatever thread or event loop it runs on
(each object carries its own lock); the clock and the sleep are parameters so tests drive them
without waiting.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ConfigError, RunStopped

WINDOW = 60.0


class RateLimiter:
    """At most ``rpm`` requests and ``tpm`` tokens in any 60-second window, across every request
    of a run.

    Written here rather than taken from aiolimiter: that is a leaky bucket for one event loop
    (its capacity drips back continuously, so one 60-second window can hold up to twice the
    limit), with
    no way to correct a request's estimated tokens to what the server reported (``settle``),
    and no blocking form for the threads and Ray actors that share this one.

    A request is admitted with an estimate of its tokens, which ``settle`` replaces with what
    the server reported. A single request larger than ``tpm`` is admitted into an empty window
    (it could never be admitted otherwise).
    """

    def __init__(
        self,
        rpm: int | None = None,
        tpm: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._events: list[list[float]] = []  # [admitted at, tokens], oldest first
        self.waited = 0.0

    def _fits(self, events: list[list[float]], tokens: int) -> bool:
        if self.rpm is not None and len(events) >= self.rpm:
            return False
        used = sum(event[1] for event in events)
        return self.tpm is None or not events or used + tokens <= self.tpm

    def _admit(self, tokens: int) -> list[float] | float:
        """The ticket of a request of about ``tokens`` tokens if it fits now, else how long
        to wait before it may."""
        with self._lock:
            now = self._clock()
            self._events = [e for e in self._events if e[0] > now - WINDOW]
            if self._fits(self._events, tokens):
                ticket = [now, float(tokens)]
                self._events.append(ticket)
                return ticket
            # The soonest moment enough of the oldest requests leave the window.
            k = next(
                k for k in range(1, len(self._events) + 1) if self._fits(self._events[k:], tokens)
            )
            wait = max(self._events[k - 1][0] + WINDOW - now, 0.001)
            self.waited += wait
            return wait

    def acquire(self, tokens: int) -> list[float]:
        """Wait until a request of about ``tokens`` tokens fits; returns its ticket for
        ``settle``."""
        while isinstance(admitted := self._admit(tokens), float):
            self._sleep(admitted)
        return admitted

    async def aacquire(self, tokens: int) -> list[float]:
        """``acquire`` for asyncio code: waits without holding up the event loop."""
        while isinstance(admitted := self._admit(tokens), float):
            await asyncio.sleep(admitted)
        return admitted

    def settle(self, ticket: list[float], tokens: int) -> None:
        with self._lock:
            ticket[1] = float(tokens)


@dataclass(frozen=True)
class Price:
    """US dollars per million prompt and completion tokens."""

    prompt: float
    completion: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.prompt + completion_tokens * self.completion) / 1_000_000


def load_prices(path: str) -> dict[str, Price]:
    """A price table: a JSON object mapping model names to ``{"prompt": USD per million tokens,
    "completion": USD per million tokens}``.

    Raises:
        ConfigError: the file is missing or not such a table (the message names the file).
    """
    example = '{"gpt-4o-mini": {"prompt": 0.15, "completion": 0.60}}'
    try:
        data: Any = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"price table {path}: cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise ConfigError(f"price table {path}: not JSON ({exc}); write e.g. {example}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"price table {path}: must be a JSON object like {example}")
    table: dict[str, Price] = {}
    for model, entry in data.items():
        if model.startswith("_"):
            continue  # room for comments
        try:
            table[model] = Price(float(entry["prompt"]), float(entry["completion"]))
        except (TypeError, KeyError, ValueError):
            raise ConfigError(
                f"price table {path}: the entry for {model!r} needs numeric 'prompt' and "
                f"'completion' (USD per million tokens), e.g. {example}"
            ) from None
    return table


@dataclass(frozen=True)
class Budget:
    """A limit on one run's spending: tokens, or US dollars (which needs the model's price)."""

    tokens: int | None = None
    usd: float | None = None

    def __str__(self) -> str:
        return f"${self.usd:g}" if self.usd is not None else f"{self.tokens:,} tokens"


_USD = re.compile(r"^\s*\$\s*(\d+(?:\.\d+)?)\s*$|^\s*(\d+(?:\.\d+)?)\s*usd\s*$", re.IGNORECASE)


def parse_budget(value: str) -> Budget:
    """``"200000"`` (tokens) or ``"$2.50"`` / ``"2.50usd"`` (US dollars).

    Raises:
        ConfigError: neither form.
    """
    text = value.strip().replace(",", "").replace("_", "")
    if text.isdigit():
        return Budget(tokens=int(text))
    money = _USD.match(text)
    if money:
        return Budget(usd=float(money.group(1) or money.group(2)))
    raise ConfigError(
        f"budget {value!r} is neither a number of tokens (e.g. 200000) nor dollars (e.g. '$2.50')"
    )


class Spend:
    """Tokens spent by one run, all attempts included, and the budget they may not pass."""

    def __init__(self, budget: Budget | None = None, price: Price | None = None) -> None:
        if budget is not None and budget.usd is not None and price is None:
            raise ConfigError(
                f"a budget in dollars ({budget}) needs the model's price, which the built-in "
                "prices do not have for this model and server: give --prices with an entry for "
                "the model, or a budget in tokens"
            )
        self.budget, self.price = budget, price
        self._lock = threading.Lock()
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.halted = threading.Event()
        self._why = ""

    def halt(self, why: str) -> None:
        """Stop the run: every later ``check`` raises RunStopped with ``why``."""
        self._why = why
        self.halted.set()

    async def asleep(self, seconds: float) -> None:
        """A backoff wait that ends early (within a tenth of a second) when the run is halted."""
        until = time.monotonic() + seconds
        while not self.halted.is_set() and (left := until - time.monotonic()) > 0:
            await asyncio.sleep(min(left, 0.1))

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def usd(self) -> float | None:
        return (
            None
            if self.price is None
            else self.price.cost(self.prompt_tokens, self.completion_tokens)
        )

    def charge(self, prompt_tokens: int, completion_tokens: int) -> None:
        with self._lock:
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens

    def spent(self) -> bool:
        if self.budget is None:
            return False
        if self.budget.tokens is not None:
            return self.total_tokens >= self.budget.tokens
        usd = self.usd
        return usd is not None and self.budget.usd is not None and usd >= self.budget.usd

    def check(self) -> None:
        """Raises RunStopped once the budget is spent or the run halted (called before every
        request)."""
        if self.halted.is_set():
            raise RunStopped(self._why)
        if self.spent():
            spent = (
                f"${self.usd:.4f}"
                if self.budget and self.budget.usd
                else (f"{self.total_tokens:,} tokens")
            )
            raise RunStopped(
                f"the run's budget of {self.budget} is spent ({spent}); re-run the same "
                "command with a larger --budget to extract the rest"
            )


def built_in_price(model: str, base_url: str | None) -> Price | None:
    """The price of ``model`` at the provider ``base_url`` names, from genai-prices' bundled
    table (OpenAI, Anthropic, Google, Mistral, Groq and more, kept current with each release;
    no network at run time); None for a server it does not know (a local vLLM, the embedded
    model) or a model that provider does not list. Prices that change with volume or the
    prompt's length are read at one million tokens each way."""
    if base_url is None:
        return None  # the embedded model, or no server at all: nothing is charged
    from genai_prices import Usage, calc_price

    try:
        prompt = calc_price(Usage(input_tokens=1_000_000), model, provider_api_url=base_url)
        completion = calc_price(Usage(output_tokens=1_000_000), model, provider_api_url=base_url)
    except LookupError:  # no such provider, or no such model there
        return None
    return Price(float(prompt.total_price), float(completion.total_price))


def price_for(table: Mapping[str, Price], model: str, base_url: str | None) -> Price | None:
    """The price a run uses: the price table's entry for ``model`` (``--prices``), else the
    built-in one of its provider (:func:`built_in_price`)."""
    return price_of(table, model) or built_in_price(model, base_url)


def price_of(table: Mapping[str, Price], model: str) -> Price | None:
    """The price of ``model``: its own entry, else the longest entry it starts with
    (``gpt-4o-mini`` prices ``gpt-4o-mini-2024-07-18``)."""
    if model in table:
        return table[model]
    prefixes = [name for name in table if model.startswith(name)]
    return table[max(prefixes, key=len)] if prefixes else None
