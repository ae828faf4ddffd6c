"""The public Python API as users call it: extract, extract_many, aextract, settings, errors.

A loopback server of the tests' own answers with hand-built completions; the embedded model runs
the README's examples in the live tier (tests/test_readme.py).
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from handbuilt import LoopbackServer, Script, draft_json, ok
from test_runner import Server, articles
from test_runner import extract as run_extract

import extractor

COUNTRIES = ["France", "Poland", "Canada", "Norway", "Japan", "Italy", "Spain", "Greece"]


def article(country: str) -> str:
    return f"Ukraine asked {country} to guarantee its security within 72 hours."


class InFlight:
    """How many requests the server is answering at once, and the most it ever was."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = self.peak = 0

    def __enter__(self) -> None:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def __exit__(self, *exc: object) -> None:
        with self.lock:
            self.now -= 1


IN_FLIGHT = InFlight()


def answer_for(request: httpx2.Request) -> httpx2.Response:
    """A hand-built answer naming the guarantor the article in the request names; the articles
    of the first countries are answered slowest, so answers finish out of input order."""
    body = json.loads(request.content)
    user = body["messages"][-1]["content"]
    country = next(c for c in COUNTRIES if f"asked {c} " in user)
    with IN_FLIGHT:
        time.sleep(0.05 * (len(COUNTRIES) - COUNTRIES.index(country)))
    return ok(
        draft_json(
            quote=article(country).rstrip("."),
            summary=f"Ukraine asks {country}.",
            guarantors=[{"name": country, "quote": country}],
        )
    )


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(Script([answer_for] * 40)) as running:
        yield running


def options(server: LoopbackServer) -> dict[str, str]:
    return {"base_url": server.base_url, "strategy": "single", "model": "handbuilt"}


def test_extract_returns_a_grounded_record_of_a_string(server: LoopbackServer) -> None:
    record = extractor.extract(article("France"), **options(server))
    assert isinstance(record, extractor.Record)
    assert record.error is None
    assert record.article.source == "-"
    [proposal] = record.proposals
    [guarantor] = proposal.guarantors
    assert (guarantor.actor.name, guarantor.actor.code) == ("France", "FRA")
    evidence = guarantor.evidence[0]
    assert record.article.text[evidence.start : evidence.end] == "France"
    assert record.provenance.base_url == server.base_url
    assert record.provenance.usage.requests == 1


def test_extract_reads_a_path_and_names_its_source(server: LoopbackServer, tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text(article("Poland"), encoding="utf-8")
    record = extractor.extract(path, **options(server))
    assert record.article.source == str(path)
    assert [g.actor.code for g in record.proposals[0].guarantors] == ["POL"]


def test_a_joint_proposal_keeps_every_proposer_and_reads_so() -> None:
    text = "France and Poland proposed that Canada guarantee Ukraine's security."
    # A hand-built answer naming two proposers in one string.
    joint = draft_json(
        quote=text.rstrip("."),
        summary="France and Poland propose a guarantee.",
        proposer="France and Poland",
        guarantors=[{"name": "Canada", "quote": "Canada guarantee"}],
    )
    with LoopbackServer(Script([ok(joint)])) as running:
        record = extractor.extract(text, cache=False, **options(running))
    [proposal] = record.proposals
    assert proposal.proposer is not None and proposal.proposer.code == "FRA"
    assert [p.code for p in proposal.co_proposers] == ["POL"]
    assert record.dropped == []
    assert repr(record).splitlines()[1] == "  1. FRA+POL -> guarantors CAN"


def test_settings_object_is_accepted_and_mixing_it_with_keywords_is_refused(
    server: LoopbackServer,
) -> None:
    chosen = extractor.settings(**options(server))
    assert isinstance(chosen, extractor.Settings)
    record = extractor.extract(article("Canada"), settings=chosen)
    assert record.proposals[0].guarantors[0].actor.code == "CAN"
    with pytest.raises(TypeError, match="either settings= or keyword settings"):
        extractor.extract(article("Canada"), settings=chosen, model="other")


def test_extract_many_yields_in_input_order_while_answers_finish_out_of_order(
    server: LoopbackServer,
) -> None:
    records = list(
        extractor.extract_many([article(c) for c in COUNTRIES], concurrency=4, **options(server))
    )
    assert [r.proposals[0].guarantors[0].actor.name for r in records] == COUNTRIES


def test_extract_many_consumes_its_input_lazily(server: LoopbackServer) -> None:
    pulled: list[str] = []

    def feed() -> Iterator[str]:
        for country in COUNTRIES:
            pulled.append(country)
            yield article(country)

    records = extractor.extract_many(feed(), concurrency=2, **options(server))
    first = next(records)
    assert first.proposals[0].guarantors[0].actor.name == COUNTRIES[0]
    assert len(pulled) <= 2 * 2  # a window of twice the concurrency, not the whole input
    assert len(list(records)) == len(COUNTRIES) - 1


def test_extract_many_keeps_hundreds_of_requests_in_flight() -> None:
    texts = [
        f"Article {i} says Ukraine asked the US to guarantee its security." for i in range(200)
    ]
    # Each answer is held long enough that all 200 requests are sent before the first comes
    # back, however busy the machine (a loaded 2-core runner took over a second to send them).
    busy = Server(delay=5.0)
    with LoopbackServer(busy) as loopback:
        records = list(
            extractor.extract_many(
                texts, concurrency=200, base_url=loopback.base_url, strategy="single"
            )
        )
    assert busy.most_busy == 200
    assert [r.article.text for r in records] == texts
    assert all(r.error is None and r.proposals for r in records)


def test_extract_many_raises_an_unreadable_input_when_it_comes_up(server: LoopbackServer) -> None:
    texts = [article("France"), "   \n", article("Poland")]
    records = extractor.extract_many(texts, concurrency=4, **options(server))
    assert next(records).proposals[0].guarantors[0].actor.name == "France"
    with pytest.raises(extractor.InputError, match="holds no text"):
        next(records)


def test_extract_many_and_a_run_keep_their_articles_in_flight_in_one_runner_loop(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from extractor.runs import runner

    given = runner.extract_each
    seen: list[list[str]] = []

    async def recorded(todo: object, *args: Any, **kwargs: Any) -> None:
        sources: list[str] = []
        seen.append(sources)
        finish = args[3]

        def finished(outcome: runner.Outcome) -> None:
            sources.append(outcome.source)
            finish(outcome)

        await given(todo, *args[:3], finished, *args[4:], **kwargs)

    monkeypatch.setattr(runner, "extract_each", recorded)
    paths = articles(tmp_path / "in", 3)
    with LoopbackServer(Server()) as loopback:
        made = list(
            extractor.extract_many(
                [p.read_text() for p in paths],
                base_url=loopback.base_url,
                strategy="single",
                cache=False,
            )
        )
        code, _ = run_extract(
            loopback.base_url, *map(str, paths), "-o", str(tmp_path / "out.jsonl"), "--no-cache"
        )
    assert code == 0 and all(r.error is None for r in made)
    # The Python interface's articles (their source "-") and the run's, one loop each.
    assert [sorted(sources) for sources in seen] == [["-"] * 3, sorted(map(str, paths))]


def test_aextract_runs_many_articles_concurrently(server: LoopbackServer) -> None:
    async def main() -> list[extractor.Record]:
        return await asyncio.gather(
            *(extractor.aextract(article(c), **options(server)) for c in COUNTRIES[:4])
        )

    IN_FLIGHT.peak = 0
    records = asyncio.run(main())
    assert [r.proposals[0].guarantors[0].actor.name for r in records] == COUNTRIES[:4]
    assert IN_FLIGHT.peak >= 2  # the server answered more than one of them at a time


def test_unreadable_input_and_bad_settings_raise_the_documented_errors() -> None:
    with pytest.raises(extractor.InputError, match="holds no text"):
        extractor.extract("   \n", base_url="http://127.0.0.1:9/v1")
    with pytest.raises(extractor.ConfigError, match="unknown mode"):
        extractor.extract("Ukraine.", base_url="http://127.0.0.1:9/v1", mode="telepathy")
    assert issubclass(extractor.InputError, extractor.ExtractorError)


def test_keyword_settings_are_checked_against_the_declaration() -> None:
    with pytest.raises(TypeError, match="unknown setting 'max_reask'; did you mean 'max_reasks'"):
        extractor.extract("Ukraine.", base_url="http://127.0.0.1:9/v1", max_reask=0)
    with pytest.raises(TypeError, match="'prices' is a setting of the command line only"):
        extractor.settings(prices="prices.json")
    with pytest.raises(extractor.ConfigError, match=r"^timeout='soon' is not a number"):
        extractor.settings(timeout="soon")
    assert extractor.settings(max_tokens_per_article=500).max_tokens_per_article == 500


def test_a_server_that_is_down_is_recorded_not_raised() -> None:
    record = extractor.extract(
        article("Japan"),
        base_url="http://127.0.0.1:9/v1",
        strategy="single",
        retry_budget=0,
        timeout=2,
    )
    assert record.error is not None
    assert record.error.type == "BackendError"
    assert record.proposals == []


def test_a_record_shows_as_escaped_highlighted_html(server: LoopbackServer) -> None:
    record = extractor.extract(article("Norway") + " <script>x</script>", **options(server))
    html = record._repr_html_()
    assert '<div class="gx-record">' in html
    assert "Norway</mark>" in html
    assert "<script>x" not in html
    assert "&lt;script&gt;x" in html
    # Styles are scoped to the fragment: nothing restyles the notebook's own body.
    style = html.split("<style>", 1)[1].split("</style>", 1)[0]
    assert all(rule.startswith(".gx-record ") for rule in style.split("}") if rule)


def test_records_from_many_threads_share_no_engine_state(server: LoopbackServer) -> None:
    results: dict[str, str] = {}

    def one(country: str) -> None:
        record = extractor.extract(article(country), **options(server))
        results[country] = record.proposals[0].guarantors[0].actor.name

    threads = [threading.Thread(target=one, args=(c,)) for c in COUNTRIES[:3]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {c: c for c in COUNTRIES[:3]}


def test_a_missing_or_oversized_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(extractor.InputError, match="cannot be read"):
        extractor.extract(tmp_path / "missing.txt", base_url="http://127.0.0.1:9/v1")
    big = tmp_path / "big.txt"
    big.write_bytes(b"Ukraine. " * 300_000)
    with pytest.raises(extractor.InputError, match="an article may have"):
        extractor.extract(big, base_url="http://127.0.0.1:9/v1")


def test_the_rules_strategy_needs_no_server_at_all(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_server(*args: object, **kwargs: object) -> None:
        raise AssertionError("the embedded server was started")

    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr("extractor.model.embedded.serve", no_server)
    text = "Ukraine asked France to guarantee its security within 72 hours."
    record = extractor.extract(text, strategy="rules")
    assert record.provenance.usage.requests == 0
    assert "FRA" in [g.actor.code for g in record.proposals[0].guarantors]
    [again] = extractor.extract_many([text], strategy="rules")
    assert again.proposals == record.proposals
