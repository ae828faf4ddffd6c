"""Drafts to grounded proposals: derived codes, hours and names; drops with reasons."""

from __future__ import annotations

from extractor.build import build, is_proper_name, make_actor, names_a_group
from extractor.schemas import ArticleDraft

TEXT = (
    "Ukrainian negotiators proposed neutrality with security guaranteed by the US, UK and Turkey. "
    "«Мы дадим ответ в течение трёх дней», — сказал он. "
    "Crimea and Donbass would not be part of the safeguards."
)


def draft(**proposal: object) -> ArticleDraft:
    base: dict[str, object] = {"summary": "s", "quote": "Ukrainian negotiators proposed neutrality"}
    base.update(proposal)
    return ArticleDraft.model_validate({"proposals": [base]}, context={"ground": False})


def test_codes_hours_and_canonical_names_are_derived_in_code() -> None:
    proposals, dropped = build(
        draft(
            proposer="Ukrainian negotiators",
            guarantors=[
                {"name": "the US", "quote": "the US, UK and Turkey"},
                {"name": "UK", "quote": "the US, UK and Turkey"},
            ],
            response_times=[{"text": "в течение трёх дней", "quote": "в течение трёх дней"}],
            excluded_territories=[
                {"name": "Crimea", "quote": "Crimea and Donbass"},
                {"name": "Donbass", "quote": "Crimea and Donbass"},
            ],
        ),
        TEXT,
    )
    assert dropped == []
    [proposal] = proposals
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    assert [g.actor.code for g in proposal.guarantors] == ["USA", "GBR"]
    assert [r.hours for r in proposal.response_times] == [72]
    assert [t.name for t in proposal.excluded_territories] == ["Crimea", "Donbas"]
    assert [t.text for t in proposal.excluded_territories] == ["Crimea", "Donbass"]


def test_every_evidence_span_points_at_its_quote() -> None:
    proposals, _ = build(
        draft(guarantors=[{"name": "Turkey", "quote": "the US,  UK and Turkey."}]), TEXT
    )
    evidence = proposals[0].guarantors[0].evidence[0]
    assert TEXT[evidence.start : evidence.end] == "the US, UK and Turkey"
    assert evidence.match == "normalized"
    top = proposals[0].evidence[0]
    assert TEXT[top.start : top.end] == "Ukrainian negotiators proposed neutrality"
    assert top.match == "exact"


def test_ungrounded_and_duplicate_values_are_dropped_with_reasons() -> None:
    proposals, dropped = build(
        draft(
            guarantors=[
                {"name": "Turkey", "quote": "and Turkey"},
                {"name": "Türkiye", "quote": "UK and Turkey"},
                {"name": "Japan", "quote": "Japan will guarantee"},
                {"name": "France", "quote": " "},
            ]
        ),
        TEXT,
    )
    assert [g.actor.name for g in proposals[0].guarantors] == ["Turkey"]
    assert [(d.field, d.reason) for d in dropped] == [
        ("proposals[0].guarantors[1]", "duplicate of an earlier guarantor (TUR)"),
        ("proposals[0].guarantors[2]", "quote not found in the article"),
        ("proposals[0].guarantors[3]", "no quote was given"),
    ]
    assert dropped[1].value == {
        "name": "Japan",
        "position": "unknown",
        "quote": "Japan will guarantee",
    }


def test_a_proposal_without_grounded_quote_is_dropped_whole() -> None:
    proposals, dropped = build(
        draft(quote="Russia proposed a treaty", guarantors=[{"name": "UK", "quote": "UK"}]), TEXT
    )
    assert proposals == []
    assert [d.field for d in dropped] == ["proposals[0]"]


def test_unknown_actors_keep_the_model_name_without_code() -> None:
    actor = make_actor("the Nordic-Baltic Eight")
    assert actor is not None
    assert (actor.kind, actor.code) == ("other", None)
    speaker = make_actor("David Arakhamia", fallback="person")
    assert speaker is not None and speaker.kind == "person"
    assert make_actor("  ") is None


def test_proper_names_are_told_from_descriptions() -> None:
    assert is_proper_name("Nordic-Baltic Eight")
    assert is_proper_name("the Joint Expeditionary Force")
    assert is_proper_name("Коалиция желающих")
    assert not is_proper_name("US-led military bloc")
    assert not is_proper_name("the partners")
    assert not is_proper_name("security")
    assert names_a_group("Weimar Triangle") and names_a_group("JEF")
    assert names_a_group("Коалиция желающих")
    assert not names_a_group("Senator Dick Durbin") and not names_a_group("Istanbul")
    # "сила" inside "перебросила" is no group word, and a sentence is no name.
    assert not names_a_group("Весной 2021 года Россия перебросила в аннексированный Крым и")


def test_quotation_marks_are_no_part_of_an_actors_name() -> None:
    from extractor.build import make_actor

    actor = make_actor('the "coalition of the willing')
    assert actor is not None
    assert (actor.name, actor.code) == ("the coalition of the willing", "COTW")
    assert make_actor("«НАТО»") == make_actor("НАТО")  # noqa: RUF001
