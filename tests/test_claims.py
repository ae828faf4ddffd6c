"""Every value is a claim its own quote makes, in every strategy: lying answers end in `dropped`.

The answers here are hand-built (see handbuilt.py): each is a way a server can lie that a
grounding step checking only that a quote exists would let through.
"""

from __future__ import annotations

import json

from handbuilt import Script, draft_json, engine, ok

from extractor.core.answers import Meter, Outcome
from extractor.core.build import build
from extractor.core.grounding import on_word_boundaries
from extractor.core.rules import Findings, Found
from extractor.schemas import ArticleDraft, Evidence, Proposal
from extractor.strategies import Ask, Names, locate_answers, merge, named

TEXT = (
    "Ukraine proposed that the US, the UK and Turkey guarantee its security. "
    "Guarantors would have to respond within 72 hours. "
    "Crimea and Donbas would not be covered by the guarantees. "
    "The status of the Russian delegation was unclear."
)


def lying_proposal(**values: object) -> dict[str, object]:
    """A hand-built proposal whose own quote is in TEXT, with ``values`` added."""
    return {"summary": "s", "quote": "Ukraine proposed that the US", **values}


LIES: list[tuple[str, dict[str, object], str, str]] = [
    (
        "a guarantor its quote does not name",
        {"guarantors": [{"name": "France", "quote": "the US"}]},
        "proposals[0].guarantors[0]",
        "'France' is not named in its quote 'the US'",
    ),
    (
        "a response time its quote does not give",
        {"response_times": [{"text": "24 hours", "quote": "within 72 hours"}]},
        "proposals[0].response_times[0]",
        "'24 hours' is 24 h but its quote gives 72 h",
    ),
    (
        "a territory its quote does not name",
        {"excluded_territories": [{"name": "Crimea", "quote": "security"}]},
        "proposals[0].excluded_territories[0]",
        "'Crimea' is not named in its quote 'security'",
    ),
    (
        "a proposer with no quote naming it",
        {"proposer": "Germany"},
        "proposals[0].proposer",
        "'Germany' is not named in its quote 'Ukraine proposed that the US'",
    ),
    (
        "a beneficiary with no quote naming it",
        {"beneficiary": "Moldova"},
        "proposals[0].beneficiary",
        "'Moldova' is not named in its quote 'Ukraine proposed that the US'",
    ),
    (
        "a guarantor 'US' quoted from inside 'status'",
        {"guarantors": [{"name": "US", "quote": "US of the Russian"}]},
        "proposals[0].guarantors[0]",
        "'US' is not named in its quote 'status of the Russian'",
    ),
    (
        "a group of an organisation its quote does not name",
        {"guarantors": [{"name": "members of NATO", "quote": "the UK and Turkey"}]},
        "proposals[0].guarantors[0]",
        "'members of NATO' is not named in its quote 'the UK and Turkey'",
    ),
    (
        "a state in another language its quote does not name",
        {"guarantors": [{"name": "Deutschland", "quote": "the UK and Turkey"}]},
        "proposals[0].guarantors[0]",
        "'Deutschland' is not named in its quote 'the UK and Turkey'",
    ),
    (
        "a scope exclusion its quote does not give",
        {"excluded_territories": [{"name": "the occupied territories", "quote": "Crimea and"}]},
        "proposals[0].excluded_territories[0]",
        "'the occupied territories' is not named in its quote 'Crimea and'",
    ),
    (
        "a guarantor 'UK' quoted from inside 'Ukraine'",
        {"guarantors": [{"name": "UK", "quote": "Ukrain"}]},
        "proposals[0].guarantors[0]",
        "'UK' is not named in its quote 'Ukraine'",
    ),
]


def _single(answer: str, answers: int) -> tuple[list[Proposal], list[tuple[str, str]], Script]:
    script = Script([ok(answer) for _ in range(answers)])
    proposals, dropped = named("single").run(engine(script), TEXT, "extract-v1")
    return proposals, [(d.field, d.reason) for d in dropped], script


def test_each_lie_of_a_single_answer_is_re_asked_then_dropped_with_its_reason() -> None:
    for name, values, path, reason in LIES:
        answer = draft_json(**lying_proposal(**values))
        # max_reasks=1 in the hand-built settings: the lie is told twice, then taken apart.
        proposals, dropped, script = _single(answer, answers=2)
        assert len(script.requests) == 2, name
        feedback = json.loads(script.requests[1].content)["messages"][-1]["content"]
        assert path in feedback, name
        assert (path, reason) in dropped, (name, dropped)
        [proposal] = proposals
        assert proposal.guarantors == [], name
        assert proposal.response_times == [], name
        assert proposal.excluded_territories == [], name
        assert proposal.proposer is None and proposal.beneficiary is None, name


def test_a_re_ask_that_tells_the_truth_keeps_the_value() -> None:
    lie = draft_json(**lying_proposal(guarantors=[{"name": "France", "quote": "the US"}]))
    truth = draft_json(**lying_proposal(guarantors=[{"name": "the US", "quote": "the US"}]))
    script = Script([ok(lie), ok(truth)])
    [proposal], dropped = named("single").run(engine(script), TEXT, "extract-v1")
    assert dropped == []
    assert [g.actor.code for g in proposal.guarantors] == ["USA"]


def test_proposer_and_beneficiary_carry_the_evidence_naming_them() -> None:
    draft = ArticleDraft.model_validate(
        {
            "proposals": [
                lying_proposal(
                    proposer="Ukraine",
                    beneficiary="Ukraine",
                    beneficiary_quote="guarantee its security",
                )
            ]
        },
        context={"ground": False},
    )
    [proposal], dropped = build(draft, TEXT)
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    assert [e.quote for e in proposal.proposer.evidence] == ["Ukraine proposed that the US"]
    # "its" does not name Ukraine, the sentence the quote is a clause of does: that sentence
    # is the beneficiary's evidence.
    assert proposal.beneficiary is not None and proposal.beneficiary.code == "UKR"
    assert [e.quote for e in proposal.beneficiary.evidence] == [TEXT.split(" Guarantors")[0]]
    assert dropped == []


def test_a_name_of_the_same_state_in_the_quote_backs_the_value() -> None:
    draft = ArticleDraft.model_validate(
        {
            "proposals": [
                lying_proposal(
                    guarantors=[
                        {"name": "Britain", "quote": "the UK and Turkey"},
                        {"name": "Russia", "quote": "Russian delegation"},
                    ]
                )
            ]
        },
        context={"ground": False},
    )
    [proposal], dropped = build(draft, TEXT)
    assert dropped == []
    assert [g.actor.code for g in proposal.guarantors] == ["GBR", "RUS"]
    russian = proposal.guarantors[1].evidence[0]
    assert (russian.quote, russian.model_quote) == ("Russian delegation", None)


def _answered(value: str, text: str) -> Findings:
    """The hand-built guarantor answer ``value`` about ``text``, located as the field strategies
    locate it."""
    ask = Ask("guarantors", 0, 0, text, Names, [], None)
    return locate_answers([ask], [Outcome(Names(values=[value]), grounded=True, meter=Meter())])


def test_field_strategies_drop_a_name_found_only_inside_another_word() -> None:
    text = TEXT.replace("the US, the UK and ", "")  # now "US" and "UK" stand only in words
    findings = _answered("US", text)
    for field, value in _answered("UK", text).values.items():
        for found in value:
            findings.add(field, found)
    proposals, dropped = merge(findings)
    assert proposals == []
    assert [(d.field, d.value, d.reason) for d in dropped] == [
        ("guarantors", "US", "'US' is not named in its quote 'status'"),
        ("guarantors", "UK", "'UK' is not named in its quote 'Ukraine'"),
    ]


def test_field_strategies_drop_a_deadline_or_territory_its_words_do_not_give() -> None:
    start = TEXT.index("within 72 hours")
    span = Evidence(quote="within 72 hours", start=start, end=start + 15, match="exact")
    findings = Findings()
    findings.add("response_time", Found("24 hours", span))
    findings.add("excluded_territories", Found("Kherson", span))
    proposals, dropped = merge(findings)
    assert proposals == []
    assert [(d.field, d.reason) for d in dropped] == [
        ("response_time", "'24 hours' is 24 h but its quote gives 72 h"),
        ("excluded_territories", "'Kherson' is not named in its quote 'within 72 hours'"),
    ]


def test_every_span_of_a_record_is_the_article_text_on_word_boundaries() -> None:
    draft = ArticleDraft.model_validate(
        {
            "proposals": [
                lying_proposal(
                    guarantors=[{"name": "Turkey", "quote": "UK and  Turke"}],
                    response_times=[{"text": "72 hours", "quote": "respond within 72 hour"}],
                )
            ]
        },
        context={"ground": False},
    )
    [proposal], _ = build(draft, TEXT)
    evidence = [*proposal.evidence, *proposal.guarantors[0].evidence]
    assert proposal.response_times
    evidence += proposal.response_times[0].evidence
    for item in evidence:
        assert item.quote == TEXT[item.start : item.end]
        assert on_word_boundaries(TEXT, item.start, item.end)
    assert proposal.guarantors[0].evidence[0].quote == "UK and Turkey"
    assert proposal.guarantors[0].evidence[0].model_quote == "UK and  Turke"
