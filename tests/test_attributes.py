"""Tests for the attributes code reads in an article: made-up sentences, no model involved."""

from __future__ import annotations

import pytest

from extractor.core import attributes
from extractor.core.build import make_actor
from extractor.core.grounding import on_word_boundaries
from extractor.schemas import Evidence, Guarantor, Proposal
from extractor.strategies import Chunk, named, paragraphs, sentences


def passages(text: str) -> list[Chunk]:
    return [sentence for paragraph in paragraphs(text) for sentence in sentences(paragraph)]


def bare(text: str, *codes: str) -> Proposal:
    """A proposal with the given guarantors and every attribute at its constant answer."""
    guarantors = []
    for name in codes:
        actor = make_actor(name)
        assert actor is not None and actor.code is not None
        at = text.index(name)
        quote = Evidence(quote=name, start=at, end=at + len(name), match="exact")
        guarantors.append(Guarantor(actor=actor, position="unknown", evidence=[quote]))
    return Proposal(
        summary="made up",
        proposer=None,
        beneficiary=None,
        guarantee_type="other",
        legally_binding=None,
        guarantors=guarantors,
        response_times=[],
        excluded_territories=[],
        conditions=[],
        stances=[],
        evidence=[],
    )


def filled(text: str, *codes: str, fields: frozenset[str] = attributes.ALL) -> Proposal:
    return attributes.fill(bare(text, *codes), text, passages(text), fields)


def grounded(text: str, evidence: list[Evidence]) -> bool:
    return all(
        text[e.start : e.end] == e.quote and on_word_boundaries(text, e.start, e.end)
        for e in evidence
    )


def positions(proposal: Proposal) -> dict[str | None, str]:
    return {g.actor.code: g.position for g in proposal.guarantors}


# ------------------------------------------------------------------------------ positions


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        ("Germany said it was broadly willing to act as a guarantor.", "Germany", "willing"),
        (
            "At this stage, Israel is not in a position to provide a security guarantee.",
            "Israel",
            "declined",
        ),
        ("Canada neither approved nor opposed the security guarantee plan.", "Canada", "undecided"),
        ("Poland would join the guarantors only if the ceasefire holds.", "Poland", "conditional"),
        ("Japan expressed skepticism about the security guarantees.", "Japan", "undecided"),
        (
            "Spain signalled openness to deploying troops as a security guarantee.",
            "Spain",
            "willing",
        ),
        (
            "Italy would take part in the guarantees contingent on US support.",
            "Italy",
            "conditional",
        ),
        # A readiness to talk is no readiness to guarantee.
        ("Norway is ready to talk about security guarantees.", "Norway", "unknown"),
        ("Kyiv wants security guarantees.", "Kyiv", "unknown"),
    ],
)
def test_a_cue_after_the_guarantors_naming_gives_its_position(
    text: str, name: str, expected: str
) -> None:
    proposal = filled(text, name)
    (guarantor,) = proposal.guarantors
    assert guarantor.position == expected
    if expected != "unknown":
        backing = guarantor.evidence[-1]
        assert backing.quote.startswith(name) and len(guarantor.evidence) == 2
    assert grounded(text, [e for g in proposal.guarantors for e in g.evidence])


def test_a_question_about_a_guarantor_is_undecided_not_willing() -> None:
    text = (
        "A spokeswoman for the White House declined to say whether the United States would be "
        "willing to serve as a security guarantor."
    )
    assert positions(filled(text, "White House")) == {"USA": "undecided"}


def test_consent_with_a_reservation_is_conditional() -> None:
    text = (
        "France is open to supporting a neutral Ukraine with security guarantees. "
        "But France was unwilling to sign up to a guarantee like Article 5."
    )
    assert positions(filled(text, "France")) == {"FRA": "conditional"}


def test_a_guarantor_named_by_the_words_that_propose_it_proposed_it() -> None:
    text = "Peacekeepers have been pitched by the UK as a security guarantee."
    proposal = filled(text, "UK")
    assert positions(proposal) == {"GBR": "proposed"}
    assert proposal.guarantors[0].evidence[-1].quote == "pitched by the UK"


def test_states_named_together_share_what_is_said_of_them() -> None:
    text = (
        "European peacekeepers have been pitched by the UK and France as a guarantee.\n"
        "Poland, Latvia and Estonia have signed a declaration to send troops."
    )
    assert positions(filled(text, "UK", "France", "Poland", "Latvia")) == {
        "GBR": "proposed",
        "FRA": "proposed",
        "POL": "willing",
        "LVA": "willing",
    }


def test_a_lack_of_opposition_is_no_opposition() -> None:
    text = "Kyiv asks that Moscow declare a lack of opposition to the security guarantees."
    assert positions(filled(text, "Moscow")) == {"RUS": "unknown"}


def test_a_state_named_as_an_object_takes_no_position_from_the_clause() -> None:
    text = "Kyiv will negotiate with Russia only when the security guarantees are signed."
    assert positions(filled(text, "Russia")) == {"RUS": "unknown"}


def test_a_cue_in_the_next_clause_or_about_the_next_state_is_not_the_guarantors() -> None:
    text = "Britain backed the plan, while Hungary refused to provide any guarantee."
    assert positions(filled(text, "Britain", "Hungary")) == {"GBR": "unknown", "HUN": "declined"}


# ------------------------------------------------------------------------------ type, binding


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The allies discussed a security guarantee modelled on Article 5.", "collective_defense"),
        ("Britain would send peacekeepers as a security guarantee.", "peacekeeping_force"),
        (
            "Kyiv proposed a neutral status with security guarantees similar to Article 5.",
            "neutrality_with_guarantees",
        ),
        ("NATO should give guarantees that Georgia will not join NATO.", "non_enlargement_pledge"),
        ("This falls well short of an Article 5 commitment.", "other"),
        ("The security guarantees were not described.", "other"),
    ],
)
def test_the_guarantee_type_comes_from_its_cue(text: str, expected: str) -> None:
    proposal = filled(text, fields=frozenset({"guarantee_type"}))
    assert proposal.guarantee_type == expected
    if expected != "other":
        assert [e.quote for e in proposal.evidence] == [text]


def test_the_type_cued_in_most_sentences_wins() -> None:
    text = (
        "The coalition would deploy troops as a security guarantee. "
        "The peacekeepers would stay for years. "
        "Some recalled Article 5."
    )
    assert filled(text).guarantee_type == "peacekeeping_force"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kyiv asks for legally binding security guarantees.", True),
        ("Ключевое требование: юридически обязывающие гарантии безопасности.", True),
        ("The guarantees would be a non-binding political declaration.", False),
        ("Kyiv asks for security guarantees.", None),
    ],
)
def test_legally_binding_only_where_the_article_says_so(text: str, expected: bool | None) -> None:
    proposal = filled(text, fields=frozenset({"legally_binding"}))
    assert proposal.legally_binding is expected
    assert [e.quote for e in proposal.evidence] == ([] if expected is None else [text])


# ------------------------------------------------------------------------------ stances


def test_a_state_that_speaks_takes_the_stance_its_words_give() -> None:
    text = (
        "Kremlin spokesman Dmitry Peskov said nothing about the plan, declining to discuss "
        "specific proposals.\n"
        "Russia has reaffirmed that it is opposed to the idea of foreign troops.\n"
        "Germany said the plan could only work if Russia was part of it."
    )
    stances = filled(text).stances
    assert [(s.actor.code if s.actor else None, s.stance) for s in stances] == [
        ("RUS", "no_comment"),
        ("RUS", "opposes"),
        ("DEU", "conditional"),
    ]
    assert stances[0].speaker.name == "Kremlin spokesman Dmitry Peskov"
    assert stances[0].speaker.kind == "person"
    assert [e.quote for e in stances[1].evidence] == [text.splitlines()[1]]
    assert grounded(text, [e for s in stances for e in s.evidence])


@pytest.mark.parametrize(
    "text",
    [
        # No state or organisation speaks.
        "Analysts said the security guarantees were premature.",
        # The state named is the object, not the speaker.
        "The details of Ukraine's neutrality will depend on the army, the person added.",
        # A place in apposition is not the speaker.
        "Rutte, at a forum in Davos, Switzerland, stated that the idea was unacceptable.",
        # A state speaks, but with no cue for a stance.
        "France said the talks would resume on Monday.",
    ],
)
def test_no_stance_without_a_speaking_state_and_a_cue(text: str) -> None:
    assert filled(text).stances == []


def test_one_stance_of_each_kind_per_state() -> None:
    text = "Russia rejected the plan.\nMoscow again rejected the plan."
    assert [(s.actor.code if s.actor else None, s.stance) for s in filled(text).stances] == [
        ("RUS", "opposes")
    ]


# ------------------------------------------------------------------------------ filling


def test_only_the_fields_asked_for_are_filled() -> None:
    text = "Germany is willing to provide legally binding guarantees on the model of Article 5."
    proposal = filled(text, "Germany", fields=frozenset({"legally_binding"}))
    assert proposal.legally_binding is True
    assert proposal.guarantee_type == "other"
    assert positions(proposal) == {"DEU": "unknown"}
    everything = filled(text, "Germany")
    assert (everything.guarantee_type, positions(everything)) == (
        "collective_defense",
        {"DEU": "willing"},
    )


def test_rules_fill_the_attributes_of_their_proposal() -> None:
    text = (
        "Ukraine proposed security guarantees from Germany on the model of Article 5.\n\n"
        "Germany said it was broadly willing to act as a guarantor.\n\n"
        "Russia rejected the proposal."
    )
    (proposal,), _ = named("rules").conclude(text, [], [])
    assert proposal.guarantee_type == "collective_defense"
    assert positions(proposal) == {"DEU": "willing"}
    assert [(s.actor.code if s.actor else None, s.stance) for s in proposal.stances] == [
        ("RUS", "opposes")
    ]
    evidence = [
        *proposal.evidence,
        *(e for g in proposal.guarantors for e in g.evidence),
        *(e for s in proposal.stances for e in s.evidence),
    ]
    assert grounded(text, evidence)


def test_an_article_with_no_proposal_gets_none() -> None:
    text = "The weather in Kyiv was cold. Germany said the talks were positive."
    assert named("rules").conclude(text, [], []) == ([], [])
