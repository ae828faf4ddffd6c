"""Re-ask, retry and failure paths against hand-built completions, counting every request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from handbuilt import Script, draft_json, engine, ok, status

from extractor.core.build import build
from extractor.core.prompting import render
from extractor.errors import BackendError, ConfigError, OutputError
from extractor.model.flight import in_flight
from extractor.model.parsing import salvage

ARTICLE = (
    "Ukraine proposed that the US, UK and France guarantee its security. "
    "Guarantors would have to respond within 72 hours."
)
MESSAGES = render("extract-v1", ARTICLE)

GOOD = draft_json(
    quote="Ukraine proposed that the US, UK and France guarantee its security.",
    summary="Ukraine asks the US, UK and France for guarantees.",
    proposer="Ukraine",
    guarantors=[{"name": "the US", "position": "proposed", "quote": "the US, UK and France"}],
    response_times=[{"text": "72 hours", "quote": "respond within 72 hours"}],
)
INVENTED = draft_json(
    summary="Made up.",
    guarantors=[{"name": "Japan", "quote": "Japan would also guarantee it"}],
    quote="Ukraine proposed that the US, UK and France guarantee its security.",
)


def test_grounded_answer_costs_one_request_and_counts_its_tokens() -> None:
    script = Script([ok(GOOD, prompt_tokens=300, completion_tokens=40)])
    outcome = engine(script).extract(MESSAGES, ARTICLE)
    assert outcome.grounded
    assert len(script.requests) == 1
    assert (outcome.meter.requests, outcome.meter.responses) == (1, 1)
    assert (outcome.meter.prompt_tokens, outcome.meter.completion_tokens) == (300, 40)


def test_missing_quote_is_reasked_naming_the_quote() -> None:
    script = Script([ok(INVENTED), ok(GOOD)])
    outcome = engine(script).extract(MESSAGES, ARTICLE)
    assert outcome.grounded
    assert len(script.requests) == 2
    reask = script.bodies()[1]["messages"]
    feedback = " ".join(str(message.get("content")) for message in reask[len(MESSAGES) :])
    assert "Japan would also guarantee it" in feedback
    assert "proposals[0].guarantors[0]" in feedback
    assert "quote not found in the article" in feedback
    assert outcome.meter.total_tokens == 2 * 120


def test_after_the_last_reask_ungrounded_values_are_dropped_not_kept() -> None:
    script = Script([ok(INVENTED), ok(INVENTED)])
    outcome = engine(script).extract(MESSAGES, ARTICLE)
    assert not outcome.grounded
    assert len(script.requests) == 2
    assert outcome.problem is not None and "Japan" in outcome.problem
    proposals, dropped = build(outcome.draft, ARTICLE)
    assert [g.actor.code for g in proposals[0].guarantors] == []
    assert [d.field for d in dropped] == ["proposals[0].guarantors[0]"]
    assert dropped[0].reason == "quote not found in the article"


def test_zero_reasks_means_one_request() -> None:
    script = Script([ok(INVENTED)])
    outcome = engine(script, max_reasks=0).extract(MESSAGES, ARTICLE)
    assert not outcome.grounded
    assert len(script.requests) == 1


def test_server_error_is_retried_with_backoff() -> None:
    sleeps: list[float] = []
    script = Script([status(500), ok(GOOD)])
    outcome = engine(script, sleeps).extract(MESSAGES, ARTICLE)
    assert outcome.grounded
    assert len(script.requests) == 2
    assert (outcome.meter.requests, outcome.meter.responses) == (2, 1)
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 20


def test_rate_limit_honours_retry_after() -> None:
    sleeps: list[float] = []
    script = Script([status(429, {"retry-after": "3"}), ok(GOOD)])
    engine(script, sleeps).extract(MESSAGES, ARTICLE)
    assert sleeps == [3.0]
    assert len(script.requests) == 2


def test_retry_after_above_the_cap_is_waited_to_the_cap_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sleeps: list[float] = []
    script = Script([status(429, {"retry-after": "3600"})] * 3)
    with pytest.raises(BackendError) as failed:
        engine(script, sleeps).extract(MESSAGES, ARTICLE)
    assert sleeps == [20.0, 20.0]
    assert len(script.requests) == 3
    assert str(failed.value).endswith(
        "it asked to wait 3600s (Retry-After), more than the 20s this client waits, so it was "
        "asked again sooner: lower --rpm or run the same command later"
    )
    assert [r.getMessage() for r in caplog.records if r.name == "extractor.model.client"] == [
        "http://handbuilt.invalid/v1 asked to wait 3600s (Retry-After); waiting 20s, the most "
        "this client waits"
    ] * 2


def test_persistent_server_error_costs_exactly_the_transport_budget() -> None:
    script = Script([status(503), status(503), status(503)])
    eng = engine(script)
    with pytest.raises(BackendError, match="kept failing \\(HTTP 503\\) after 3 tries"):
        eng.extract(MESSAGES, ARTICLE)
    assert len(script.requests) == 3
    assert eng.last_meter.requests == 3


def test_connection_failure_names_the_server() -> None:
    import httpx2

    def refuse(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError("refused", request=request)

    script = Script([refuse, refuse, refuse])
    with pytest.raises(BackendError, match=r"cannot reach http://handbuilt\.invalid/v1"):
        engine(script).extract(MESSAGES, ARTICLE)
    assert len(script.requests) == 3


def test_bad_key_is_a_configuration_error_after_one_request() -> None:
    script = Script([status(401)])
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        engine(script).extract(MESSAGES, ARTICLE)
    assert len(script.requests) == 1


def test_unparseable_answers_end_in_output_error() -> None:
    script = Script([ok("I cannot answer that."), ok('{"proposals": "none"}')])
    with pytest.raises(OutputError, match="after 2 answer"):
        engine(script).extract(MESSAGES, ARTICLE)
    assert len(script.requests) == 2


# A hand-built answer cut off inside its response time, as a server ends one at max_tokens.
CUT = GOOD[: GOOD.index('"response_times"')] + '"response_times": [{"text": "72 h'


def test_a_cut_off_answer_is_asked_again_with_twice_the_budget() -> None:
    script = Script([ok(CUT, finish_reason="length"), ok(GOOD)])
    outcome = engine(script).extract(MESSAGES, ARTICLE)
    assert [body["max_tokens"] for body in script.bodies()] == [4096, 8192]
    # The same question: only the budget changed.
    first, second = script.bodies()
    assert first["messages"] == second["messages"] == MESSAGES
    assert outcome.grounded and outcome.problem is None
    assert outcome.draft.proposals[0].response_times
    meter = outcome.meter
    assert (meter.cut_off, meter.kept_cut, meter.reasks, meter.requests) == (1, 0, 1, 2)
    assert meter.retry_budget == 7


def test_a_cut_off_answer_grows_to_the_ceiling_then_what_it_holds_is_kept() -> None:
    script = Script([ok(CUT, finish_reason="length") for _ in range(3)])
    outcome = engine(script, max_tokens=5000).extract(MESSAGES, ARTICLE)
    # 5000, then 10000, then the ceiling (16,384): no more to give.
    assert [body["max_tokens"] for body in script.bodies()] == [5000, 10000, 16384]
    assert not outcome.grounded
    assert outcome.problem == "the answer was cut off at max_tokens=16384"
    [proposal] = outcome.draft.proposals
    assert [g.name for g in proposal.guarantors] == ["the US"]
    # The cut-off response time lacks its quote: pruned, not invented.
    assert proposal.response_times == []
    assert (outcome.meter.cut_off, outcome.meter.kept_cut) == (3, 1)


def test_a_cut_off_answer_is_asked_again_only_while_the_retry_budget_lasts() -> None:
    script = Script([ok(CUT, finish_reason="length") for _ in range(2)])
    outcome = engine(script, retry_budget=1).extract(MESSAGES, ARTICLE)
    assert [body["max_tokens"] for body in script.bodies()] == [4096, 8192]
    assert outcome.problem == "the answer was cut off at max_tokens=8192"
    assert (outcome.meter.cut_off, outcome.meter.kept_cut, outcome.meter.retry_budget) == (2, 1, 0)


def test_the_embedded_models_cut_off_answer_is_not_asked_again() -> None:
    """Its cut answers are a small model repeating itself: more room only makes them longer."""
    script = Script([ok(CUT, finish_reason="length")])
    outcome = engine(script, model="smollm2-135m-instruct").extract(MESSAGES, ARTICLE)
    assert [body["max_tokens"] for body in script.bodies()] == [1024]
    assert outcome.problem == "the answer was cut off at max_tokens=1024"
    assert (outcome.meter.cut_off, outcome.meter.kept_cut) == (1, 1)


def test_truncated_answer_with_nothing_in_it_is_an_output_error() -> None:
    script = Script([ok("", finish_reason="length")])
    with pytest.raises(OutputError, match="cut off at max_tokens=1024 before it said anything"):
        engine(script, model="smollm2-135m-instruct").extract(MESSAGES, ARTICLE)


@pytest.mark.parametrize(
    ("content", "kept", "pruned"),
    [
        ('{"proposals": [{"summary": "a", "quote": "q"}, {"summary": "b"}]}', 1, ["proposals[1]"]),
        (
            '{"proposals": [{"summary": "a", "quote": "q", "guarantors": [{"name": "X"}, '
            '{"name": "Y", "quote": "y"}]}]}',
            1,
            ["proposals[0].guarantors[0]"],
        ),
        ('```json\n{"proposals": [{"summary": "a", "quote": "q"}]}\n```', 1, []),
        ('{"proposals": [{"summary": "a", "quote": "q"}, {"summ', 1, ["proposals[1]"]),
    ],
)
def test_salvage_prunes_malformed_items(content: str, kept: int, pruned: list[str]) -> None:
    draft, removed = salvage(content)
    assert len(draft.proposals) == kept
    assert [path for path, _ in removed] == pruned


def test_llamacpp_mode_sends_json_object_with_a_bounded_schema() -> None:
    script = Script([ok(GOOD)])
    engine(script, mode="llamacpp").extract(MESSAGES, ARTICLE)
    body = script.bodies()[0]
    assert body["response_format"]["type"] == "json_object"
    # The grammar enforces the schema; it is not repeated in the prompt.
    assert body["messages"] == MESSAGES
    schema = body["response_format"]["schema"]
    assert schema["properties"]["proposals"]["maxItems"] == 4
    quote = schema["$defs"]["GuarantorDraft"]["properties"]["quote"]
    assert quote["maxLength"] == 300
    assert body["temperature"] == 0.0 and body["seed"] == 0


def test_json_schema_mode_asks_for_strict_structured_output() -> None:
    script = Script([ok(GOOD)])
    engine(script, mode="json_schema").extract(MESSAGES, ARTICLE)
    body = script.bodies()[0]
    assert body["response_format"]["type"] == "json_schema"


def test_an_article_is_sent_verbatim_even_when_it_looks_like_a_template() -> None:
    # instructor renders messages as Jinja templates when given a context; an article is not one.
    text = "Kyiv asked Washington to guarantee it. {{ 7*7 }} {% if x %}y{% endif %} {# note #}"
    script = Script(
        [
            ok(draft_json(quote="not in the article", summary="x.")),
            ok(draft_json(quote="Kyiv asked Washington to guarantee it", summary="x.")),
        ]
    )
    outcome = engine(script).extract(render("extract-v1", text), text)
    first, second = script.bodies()
    assert text in first["messages"][1]["content"]
    # The quote check still ran on the first answer: it was re-asked.
    assert len(script.requests) == 2
    assert text in second["messages"][1]["content"]
    assert outcome.grounded


def test_in_flight_keeps_to_its_limit_and_takes_items_as_room_frees_up() -> None:
    taken: list[int] = []
    running = most = 0

    def items() -> Iterator[int]:
        for n in range(10):
            taken.append(n)
            yield n

    async def work(n: int) -> int:
        nonlocal running, most
        running += 1
        most = max(most, running)
        assert len(taken) <= n + 3  # no item is taken before there is room for it
        await asyncio.sleep(0.001 * (10 - n))
        running -= 1
        return n

    done: list[int] = []
    asyncio.run(in_flight(items(), 3, work, done.append))
    assert most == 3
    assert sorted(done) == list(range(10))


def test_in_flight_takes_items_of_an_asynchronous_source_as_they_come() -> None:
    queue: asyncio.Queue[int | None] = asyncio.Queue()
    gate = asyncio.Event()
    started: list[int] = []
    done: list[int] = []

    async def fed() -> AsyncIterator[int]:
        while (n := await queue.get()) is not None:
            yield n

    async def work(n: int) -> int:
        started.append(n)
        await gate.wait()
        return n

    async def until(condition: Callable[[], bool]) -> None:
        async def poll() -> None:
            while not condition():
                await asyncio.sleep(0.001)

        await asyncio.wait_for(poll(), timeout=30)

    async def main() -> None:
        flight = asyncio.ensure_future(in_flight(fed(), 2, work, done.append))
        for n in range(3):
            queue.put_nowait(n)
        await until(lambda: len(started) == 2)
        for _ in range(10):
            await asyncio.sleep(0)
        assert started == [0, 1]  # the third waits for room
        gate.set()
        # What came is worked on while the source waits for more; nothing ends the flight yet.
        await until(lambda: len(done) == 3)
        assert not flight.done()
        for n in range(3, 8):
            queue.put_nowait(n)
        queue.put_nowait(None)
        await flight

    asyncio.run(main())
    assert sorted(done) == list(range(8))


def test_in_flight_cancels_the_work_in_flight_when_one_fails() -> None:
    cancelled: list[int] = []

    async def work(n: int) -> int:
        try:
            await asyncio.sleep(0 if n == 1 else 10)
        except asyncio.CancelledError:
            cancelled.append(n)
            raise
        raise ValueError(f"item {n} failed")

    with pytest.raises(ValueError, match="item 1 failed"):
        asyncio.run(in_flight(range(100), 4, work, lambda n: None))
    assert sorted(cancelled) == [0, 2, 3]


def test_an_answer_cut_off_at_max_tokens_is_counted_in_the_usage() -> None:
    from extractor.io.articles import from_text
    from extractor.runs import pipeline

    cut = GOOD[: GOOD.index('"response_times"')] + '"response_times": [{"text": "72 h'
    # The embedded model's cut answer is kept as it is (not asked again): counted once.
    small = "smollm2-135m-instruct"
    script = Script([ok(cut, finish_reason="length")])
    outcome = engine(script, model=small).extract(MESSAGES, ARTICLE)
    assert outcome.meter.cut_off == 1
    # And in the record's usage, where the summary reads it.
    record = pipeline.extract(
        from_text("a.txt", ARTICLE),
        engine(Script([ok(cut, finish_reason="length")]), model=small, strategy="single"),
    )
    assert record.provenance.usage.cut_off == 1
    whole = pipeline.extract(from_text("a.txt", ARTICLE), engine(Script([ok(GOOD)])))
    assert whole.provenance.usage.cut_off == 0


def test_a_version_2_answer_with_a_malformed_response_time_is_salvaged_around_it() -> None:
    """A hand-built answer in the draft of schema version 2 whose one response time lacks its
    quote: that deadline is pruned (at its path in the list it became), the rest kept."""
    answer = (
        '{"proposals": [{"summary": "s", "quote": "q", "response_time": {"text": "72 hours"}, '
        '"guarantors": [{"name": "the US", "quote": "q"}]}]}'
    )
    draft, pruned = salvage(answer)
    [proposal] = draft.proposals
    assert proposal.response_times == []
    assert [g.name for g in proposal.guarantors] == ["the US"]
    assert pruned == [("proposals[0].response_times[0]", {"text": "72 hours"})]
