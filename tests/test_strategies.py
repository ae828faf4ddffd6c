"""Strategies: chunking on paragraph boundaries, merging located field answers, request counts."""

from __future__ import annotations

import itertools
import json

from handbuilt import Script, engine, ok

from extractor import strategies
from extractor.core.rules import Findings, Found, paragraphs
from extractor.schemas import Evidence
from extractor.strategies import chunks, merge, named

TEXT = (
    "Talks in Istanbul.\n\n"
    "Ukraine proposed that the US, UK and Turkey guarantee its security.\n\n"
    "Guarantors must respond within 72 hours.\n\n"
    "Crimea and Donbas would be excluded.\n\n"
    "Weather was fine."
)


def test_paragraphs_keep_their_offsets() -> None:
    for piece in paragraphs(TEXT):
        assert TEXT[piece.start : piece.start + len(piece.text)] == piece.text
    assert [p.text for p in paragraphs(TEXT)][:2] == [
        "Talks in Istanbul.",
        "Ukraine proposed that the US, UK and Turkey guarantee its security.",
    ]
    assert [p.text for p in paragraphs("one\ntwo\n")] == ["one", "two"]


def test_chunks_respect_the_limit_and_overlap_by_one_paragraph() -> None:
    pieces = chunks(TEXT, limit=110)
    for piece in pieces:
        assert TEXT[piece.start : piece.start + len(piece.text)] == piece.text
        assert len(piece.text) <= 110
    texts = [p.text for p in pieces]
    assert len(texts) >= 2
    for before, after in itertools.pairwise(texts):
        assert after.split("\n\n")[0] == before.split("\n\n")[-1]
    assert texts[-1].endswith("Weather was fine.")


def test_a_paragraph_longer_than_the_limit_stays_whole() -> None:
    long = "word " * 100
    assert [p.text for p in chunks(long.strip(), limit=50)] == [long.strip()]


def _found(value: str) -> Found:
    start = TEXT.index(value)
    return Found(value, Evidence(quote=value, start=start, end=start + len(value), match="exact"))


def test_merge_derives_codes_and_drops_what_cannot_stand() -> None:
    findings = Findings()
    for field, value in [
        ("proposer", "Ukraine"),
        ("guarantors", "US"),
        ("guarantors", "UK"),
        ("guarantors", "Turkey"),
        ("guarantors", "US"),
        ("guarantors", "Ukraine"),
        ("guarantors", "Istanbul"),
        ("guarantors", "security"),
        ("response_time", "72 hours"),
        ("excluded_territories", "Crimea"),
        ("excluded_territories", "Donbas"),
        ("excluded_territories", "Turkey"),
    ]:
        findings.add(field, _found(value))
    # A hand-built answer from another article's text (merge reads only the evidence's words).
    named = Evidence(quote="Weimar Triangle", start=900, end=915, match="exact")
    findings.values["guarantors"].insert(7, Found("Weimar Triangle", named))
    [proposal], dropped = merge(findings)
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    # A named group without a code is kept, code null; a place, a person or a common noun not.
    assert [g.actor.code for g in proposal.guarantors] == ["USA", "GBR", "TUR", None]
    assert proposal.guarantors[3].actor.name == "Weimar Triangle"
    assert [r.hours for r in proposal.response_times] == [72]
    assert [t.name for t in proposal.excluded_territories] == ["Crimea", "Donbas"]
    assert [t.code for t in proposal.excluded_territories] == ["UA-43", None]
    assert [(d.value, d.reason) for d in dropped] == [
        ("Ukraine", "the proposer itself"),
        ("Istanbul", "not a state or a named organisation or group"),
        ("security", "not a state or a named organisation or group"),
        ("Turkey", "a state or organisation, not a territory"),
    ]
    assert proposal.summary == (
        "Ukraine: security guarantees by US, UK, Turkey, Weimar Triangle, "
        "response within 72 hours, excluding Crimea, Donbas."
    )
    starts = [e.start for e in proposal.evidence]
    assert starts == sorted(starts)


def test_no_guarantor_time_or_territory_means_no_proposal() -> None:
    findings = Findings()
    findings.add("proposer", _found("Ukraine"))
    proposals, dropped = merge(findings)
    assert proposals == []
    assert [d.field for d in dropped] == ["proposer"]


def test_decomposed_asks_each_field_once_and_locates_answers() -> None:
    answers = [
        ok(json.dumps({"values": ["the US", "Japan"]})),  # guarantors
        ok(json.dumps({"value": "Ukraine"})),  # proposer
        ok(json.dumps({"value": "72 hours"})),  # response time, chosen from the durations found
        ok(json.dumps({"values": ["Crimea"]})),  # excluded territories, chosen likewise
        ok(json.dumps({"values": []})),  # conditions
    ]
    script = Script(answers)
    eng = engine(script, mode="llamacpp")
    proposals, dropped = named("decomposed").run(eng, TEXT, "fields-v1")
    assert len(script.requests) == 5
    [proposal] = proposals
    assert [g.actor.code for g in proposal.guarantors] == ["USA"]
    assert [r.hours for r in proposal.response_times] == [72]
    schema = json.loads(script.requests[2].content)["response_format"]["schema"]
    assert schema["properties"]["value"]["anyOf"][0]["const"] == "72 hours"
    assert "72 hours?" in json.loads(script.requests[2].content)["messages"][1]["content"]
    assert [(d.field, d.value) for d in dropped] == [("guarantors", "Japan")]
    evidence = proposal.guarantors[0].evidence[0]
    assert TEXT[evidence.start : evidence.end] == "the US"


def test_chunked_asks_only_where_code_sees_something_to_find() -> None:
    text = "Weather was fine.\n\nCrimea would be excluded."
    script = Script([ok(json.dumps({"values": ["Crimea"]}))])
    proposals, _ = named("chunked").run(engine(script, mode="llamacpp"), text, "fields-v1")
    # One chunk holds both paragraphs; only the territory question is gated in.
    assert len(script.requests) == 1
    assert (
        "excluded from the security guarantees"
        in json.loads(script.requests[0].content)["messages"][1]["content"]
    )
    assert [t.name for t in proposals[0].excluded_territories] == ["Crimea"]


def test_an_unusable_field_answer_costs_that_answer_not_the_article() -> None:
    script = Script(
        [
            ok("not json at all"),
            ok("still not json"),  # guarantors, after one re-ask
            ok(json.dumps({"value": None})),
            ok(json.dumps({"value": "72 hours"})),
            ok(json.dumps({"values": ["Crimea"]})),
            ok(json.dumps({"values": []})),
        ]
    )
    proposals, dropped = named("decomposed").run(engine(script, mode="llamacpp"), TEXT, "fields-v1")
    assert len(script.requests) == 6
    assert proposals[0].response_times
    assert dropped[0].field == "guarantors" and "not JSON" in dropped[0].reason


def test_deadlines_are_durations_written_as_deadlines() -> None:
    from extractor.core.rules import deadlines, territory_mentions

    assert deadlines("we put 72 hours max. So within 72 hours, all") == ["72 hours"]
    assert deadlines("Ukraine would one day join its ranks") == []
    assert deadlines("ответить в течение трёх дней") == ["трёх дней"]
    assert territory_mentions("Crimea and Donbass would not be part of it") == ["Crimea", "Donbass"]
    assert territory_mentions("Fighting in Donbass went on") == []


def test_russian_answers_get_the_same_codes_and_canonical_names() -> None:
    text = "Турция и Франция гарантируют безопасность. Крым исключён. Ответ в течение трёх дней."

    def found(value: str) -> Found:
        start = text.index(value)
        return Found(
            value, Evidence(quote=value, start=start, end=start + len(value), match="exact")
        )

    findings = Findings()
    findings.add("guarantors", found("Турция"))
    findings.add("guarantors", found("Франция"))
    findings.add("excluded_territories", found("Крым"))
    findings.add("response_time", found("трёх дней"))
    [proposal], _ = merge(findings)
    assert [(g.actor.name, g.actor.code) for g in proposal.guarantors] == [
        ("Турция", "TUR"),
        ("Франция", "FRA"),
    ]
    assert [(t.name, t.text) for t in proposal.excluded_territories] == [("Crimea", "Крым")]
    assert [r.hours for r in proposal.response_times] == [72]
    assert proposal.guarantors[0].evidence[0].quote == "Турция"


def test_actor_mentions_are_verbatim_first_mentions_without_possessives() -> None:
    from extractor.core.rules import actor_mentions

    text = "Ukraine\u2019s plan: the United States, Kyiv and Russia's envoy; Washington agreed."
    assert actor_mentions(text) == ["Ukraine", "the United States", "Russia"]
    assert all(mention in text for mention in actor_mentions(text))


def test_the_options_put_to_the_model_do_not_depend_on_what_was_asked_before() -> None:
    # typing caches Literal[...] by the set of its values: an earlier question with the same
    # names in another order must not reorder this one's options.
    first = strategies.choice_model(["Russia", "German"], many=False)
    second = strategies.choice_model(["German", "Russia"], many=False)
    assert first.model_json_schema()["properties"]["value"]["anyOf"][0]["enum"] == [
        "Russia",
        "German",
    ]
    assert second.model_json_schema()["properties"]["value"]["anyOf"][0]["enum"] == [
        "German",
        "Russia",
    ]
    many = strategies.choice_model(["German", "Russia"], many=True)
    assert many.model_json_schema()["properties"]["values"]["items"]["enum"] == [
        "German",
        "Russia",
    ]
