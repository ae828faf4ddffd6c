"""Rate limits, prices and budgets: pure bookkeeping on a fake clock."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from extractor.errors import ConfigError, RunStopped
from extractor.model.spending import (
    Budget,
    Price,
    RateLimiter,
    Spend,
    load_prices,
    parse_budget,
    price_of,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_requests_per_minute_wait_for_the_oldest_to_leave_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter(rpm=2, clock=clock, sleep=clock.sleep)
    limiter.acquire(0)
    clock.now += 10
    limiter.acquire(0)
    assert clock.sleeps == []
    limiter.acquire(0)  # the first leaves the window 60 s after it was admitted
    assert clock.sleeps == [pytest.approx(50.0)]
    assert limiter.waited == pytest.approx(50.0)


def test_tokens_per_minute_count_what_the_server_reported() -> None:
    clock = Clock()
    limiter = RateLimiter(tpm=1000, clock=clock, sleep=clock.sleep)
    ticket = limiter.acquire(900)  # estimated high
    limiter.settle(ticket, 300)  # the server said 300
    limiter.acquire(600)  # 300 + 600 fits
    assert clock.sleeps == []
    clock.now += 5
    limiter.acquire(200)  # 900 + 200 does not: wait for the first to leave
    assert clock.sleeps == [pytest.approx(55.0)]


def test_a_request_larger_than_the_token_limit_goes_into_an_empty_window() -> None:
    clock = Clock()
    limiter = RateLimiter(tpm=100, clock=clock, sleep=clock.sleep)
    limiter.acquire(500)
    assert clock.sleeps == []
    limiter.acquire(10)
    assert clock.sleeps == [pytest.approx(60.0)]


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("200000", Budget(tokens=200_000)),
        ("200,000", Budget(tokens=200_000)),
        ("$2.50", Budget(usd=2.5)),
        ("3usd", Budget(usd=3.0)),
    ],
)
def test_budgets_are_tokens_or_dollars(text: str, budget: Budget) -> None:
    assert parse_budget(text) == budget


def test_a_budget_that_is_neither_says_both_forms() -> None:
    with pytest.raises(ConfigError, match=r"e\.g\. 200000.*'\$2\.50'"):
        parse_budget("lots")


def test_spend_stops_at_the_token_budget_and_says_how_to_go_on() -> None:
    spend = Spend(Budget(tokens=1000))
    spend.charge(600, 100)
    spend.check()
    spend.charge(300, 0)
    with pytest.raises(RunStopped, match=r"1,000 tokens is spent \(1,000 tokens\); re-run"):
        spend.check()


def test_spend_in_dollars_needs_a_price_and_stops_at_it() -> None:
    with pytest.raises(ConfigError, match="needs the model's price"):
        Spend(Budget(usd=1.0))
    spend = Spend(Budget(usd=1.0), Price(prompt=1.0, completion=4.0))
    spend.charge(500_000, 100_000)  # $0.50 + $0.40
    spend.check()
    spend.charge(100_000, 0)
    assert spend.usd == pytest.approx(1.0)
    with pytest.raises(RunStopped, match=r"\$1 is spent"):
        spend.check()


def test_a_halted_run_stops_at_the_next_request() -> None:
    spend = Spend()
    spend.check()
    spend.halt("the run was interrupted")
    with pytest.raises(RunStopped, match="interrupted"):
        spend.check()


def test_price_tables_load_and_match_dated_model_names(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text(
        json.dumps(
            {
                "_note": "USD per million tokens",
                "gpt-4o": {"prompt": 2.5, "completion": 10},
                "gpt-4o-mini": {"prompt": 0.15, "completion": 0.6},
            }
        )
    )
    table = load_prices(str(path))
    assert price_of(table, "gpt-4o-mini-2024-07-18") == Price(0.15, 0.6)
    assert price_of(table, "gpt-4o") == Price(2.5, 10.0)
    assert price_of(table, "llama") is None
    assert Price(0.15, 0.6).cost(1_000_000, 1_000_000) == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('{"m": {"prompt": 1}}', "the entry for 'm' needs numeric 'prompt' and 'completion'"),
    ],
)
def test_a_bad_price_table_names_the_file_and_the_fix(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "prices.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message) as caught:
        load_prices(str(path))
    assert str(path) in str(caught.value)
