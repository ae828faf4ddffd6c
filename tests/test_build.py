"""Drafts to grounded proposals: derived codes, hours and names; drops with reasons."""

from __future__ import annotations

from extractor.core.build import build, is_proper_name, make_actor, names_a_group
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
    from extractor.core.build import make_actor

    actor = make_actor('the "coalition of the willing')
    assert actor is not None
    assert (actor.name, actor.code) == ("the coalition of the willing", "COTW")
    assert make_actor("«НАТО»") == make_actor("НАТО")  # noqa: RUF001


# Hand-built answers of the kind a capable model gives (made up here, no model wrote them).
CAPABLE_TEXT = (
    "Эта группа государств-гарантов может состоять изСША, Великобритании и Канады. "
    "Finland and Sweden would guarantee the deal, and the UK and France would lead it. "
    "Страны “Большой семерки” поддержали предложение Трампа, участники формата «5+2» — нет. "
    "The remainder of Donbas and the occupied territories would be left out; so would "
    "оккупированные территории, said the status report."
)


def capable_draft(**proposal: object) -> ArticleDraft:
    return draft(quote="Finland and Sweden would guarantee the deal", **proposal)


def test_a_name_glued_to_a_function_word_by_the_scraper_is_named_in_its_quote() -> None:
    quote = "может состоять изСША, Великобритании и Канады"
    proposals, dropped = build(
        capable_draft(
            guarantors=[
                {"name": "США", "quote": quote},
                {"name": "ВБ", "quote": quote},
                {"name": "US", "quote": "said the status report"},  # "status" names no US
            ]
        ),
        CAPABLE_TEXT,
    )
    assert [g.actor.code for g in proposals[0].guarantors] == ["USA", "GBR"]
    assert [(d.field, d.value["name"]) for d in dropped] == [("proposals[0].guarantors[2]", "US")]


def test_several_names_in_one_string_become_one_coded_actor_each() -> None:
    proposals, dropped = build(
        capable_draft(
            proposer="the UK and France",
            proposer_quote="the UK and France would lead it",
            guarantors=[
                {"name": "Finland and Sweden", "quote": "Finland and Sweden would guarantee"},
                {"name": "Finland and Norway", "quote": "Finland and Sweden would guarantee"},
            ],
        ),
        CAPABLE_TEXT,
    )
    [proposal] = proposals
    assert [g.actor.code for g in proposal.guarantors] == ["FIN", "SWE"]
    assert [g.actor.name for g in proposal.guarantors] == ["Finland", "Sweden"]
    # A joint proposal: the first named is the proposer, the other its co-proposer.
    assert proposal.proposer is not None and proposal.proposer.code == "GBR"
    assert [(p.name, p.code) for p in proposal.co_proposers] == [("France", "FRA")]
    [evidence] = proposal.co_proposers[0].evidence
    assert evidence.quote == "the UK and France would lead it"
    quote = "Finland and Sweden would guarantee"
    assert [(d.field, d.value) for d in dropped] == [
        ("proposals[0].guarantors[1]", {"name": "Finland", "position": "unknown", "quote": quote}),
        ("proposals[0].guarantors[1]", {"name": "Norway", "position": "unknown", "quote": quote}),
    ]
    assert dropped[0].reason == "duplicate of an earlier guarantor (FIN)"
    assert "not named in its quote" in dropped[1].reason


# Hand-built answers naming several proposers and beneficiaries in one string (made up here).
JOINT_TEXT = (
    "Франция и Великобритания предложили направить миротворцев. "
    "Britain, the UK and Germany backed the plan for Ukraine and Moldova, "
    "said Prime Minister Keir Starmer. "
    "The UK, France and the Weimar Triangle will meet on it."
)


def test_a_joint_proposal_keeps_every_coded_proposer_once_and_one_beneficiary() -> None:
    proposals, dropped = build(
        draft(
            quote="Франция и Великобритания предложили направить миротворцев",
            proposer="Франция и Великобритания",
        ),
        JOINT_TEXT,
    )
    [proposal] = proposals
    assert proposal.proposer is not None and proposal.proposer.code == "FRA"
    assert [p.code for p in proposal.co_proposers] == ["GBR"]
    assert proposal.co_proposers[0].evidence == proposal.proposer.evidence
    assert dropped == []

    quote = "Britain, the UK and Germany backed the plan for Ukraine and Moldova"
    proposals, dropped = build(
        draft(
            quote=quote,
            proposer="Britain, the UK, Germany and the partners",
            proposer_person="Keir Starmer",
            proposer_quote=quote,
            beneficiary="Ukraine and Moldova",
        ),
        JOINT_TEXT,
    )
    [proposal] = proposals
    proposer = proposal.proposer
    assert proposer is not None and (proposer.code, proposer.person) == ("GBR", "Keir Starmer")
    # The person speaks for the first; a co-proposer's evidence is only the words naming it.
    assert [e.quote for e in proposer.evidence] == [quote, "Keir Starmer"]
    [germany] = proposal.co_proposers
    assert (germany.code, germany.person, [e.quote for e in germany.evidence]) == (
        "DEU",
        None,
        [quote],
    )
    beneficiary = proposal.beneficiary
    assert beneficiary is not None and beneficiary.code == "UKR"
    assert [(d.field, d.value, d.reason) for d in dropped] == [
        ("proposals[0].proposer", "the UK", "duplicate of an earlier proposer (GBR)"),
        (
            "proposals[0].proposer",
            "the partners",
            f"'the partners' is not named in its quote {quote!r}",
        ),
        ("proposals[0].beneficiary", "Moldova", "a proposal has one party here, 'Ukraine'"),
    ]

    # A co-proposer is a state or organisation with a code; another name is recorded.
    quote = "The UK, France and the Weimar Triangle will meet on it"
    proposals, dropped = build(
        draft(quote=quote, proposer="the UK, France and the Weimar Triangle"), JOINT_TEXT
    )
    assert [p.code for p in proposals[0].co_proposers] == ["FRA"]
    reason = "a co-proposer beside 'the UK' is a state or organisation with a code"
    assert [(d.value, d.reason) for d in dropped] == [("the Weimar Triangle", reason)]


def test_quotation_marks_and_a_head_noun_in_a_name_keep_it_and_its_code() -> None:
    proposals, dropped = build(
        capable_draft(
            proposer="страны “Большой семерки”",
            proposer_quote="Страны “Большой семерки” поддержали",
            beneficiary="Трамп",  # named in its quote in the genitive, "Трампа"
            beneficiary_quote="поддержали предложение Трампа",
        ),
        CAPABLE_TEXT,
    )
    assert dropped == []
    proposer, beneficiary = proposals[0].proposer, proposals[0].beneficiary
    assert proposer is not None and (proposer.name, proposer.code) == (
        "страны Большой семерки",
        "G7",
    )
    assert beneficiary is not None and (beneficiary.name, beneficiary.code) == ("Трамп", None)


def test_a_group_with_quotation_marks_in_its_name_and_no_code_is_kept_uncoded() -> None:
    proposals, dropped = build(
        capable_draft(
            guarantors=[
                {"name": "участники формата «5+2»", "quote": "участники формата «5+2»"},
                {"name": "Countries of the G7", "quote": "Страны “Большой семерки”"},
            ]
        ),
        CAPABLE_TEXT,
    )
    assert dropped == []
    assert [(g.actor.name, g.actor.code) for g in proposals[0].guarantors] == [
        ("участники формата 5+2", None),
        ("Countries of the G7", "G7"),
    ]


def test_a_territory_in_a_longer_phrase_and_a_scope_exclusion_get_canonical_names() -> None:
    quote = "The remainder of Donbas and the occupied territories would be left out"
    proposals, dropped = build(
        capable_draft(
            excluded_territories=[
                {"name": "the remainder of Donbas", "quote": quote},
                {"name": "the occupied territories", "quote": quote},
                {"name": "оккупированные территории", "quote": "оккупированные территории"},
                {"name": "Crimea", "quote": quote},  # not in its quote: dropped
            ]
        ),
        CAPABLE_TEXT,
    )
    territories = proposals[0].excluded_territories
    assert [(t.name, t.code) for t in territories] == [
        ("Donbas", None),
        ("occupied territories", None),
    ]
    assert [t.text for t in territories] == ["the remainder of Donbas", "the occupied territories"]
    assert [(d.field, d.value["name"]) for d in dropped] == [
        ("proposals[0].excluded_territories[3]", "Crimea")
    ]


# Hand-built answers whose quotes are a clause of a longer sentence.
CLAUSE_TEXT = (
    "Ukraine has agreed to stay out of the bloc and said it now seeks a different kind of "
    "security arrangement. Poland said nothing.\n"
    "Talks went on. The deal would be guaranteed by Turkey, and it said it would respond."
)


def test_a_party_or_guarantor_named_in_the_sentence_its_quote_is_a_clause_of_is_kept() -> None:
    proposals, dropped = build(
        draft(
            quote="said it now seeks a different kind of security arrangement",
            proposer="Ukraine",
            proposer_quote="said it now seeks a different kind",
            beneficiary="Poland",  # named in the next sentence only
            beneficiary_quote="said it now seeks",
            guarantors=[
                {"name": "Turkey", "quote": "it said it would respond"},
                {"name": "Poland", "quote": "it said it would respond"},
            ],
        ),
        CLAUSE_TEXT,
    )
    [proposal] = proposals
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    [sentence] = proposal.proposer.evidence
    assert sentence.quote == (
        "Ukraine has agreed to stay out of the bloc and said it now seeks a different kind of "
        "security arrangement."
    )
    assert CLAUSE_TEXT[sentence.start : sentence.end] == sentence.quote
    assert [g.actor.code for g in proposal.guarantors] == ["TUR"]
    [turkey] = proposal.guarantors[0].evidence
    assert turkey.quote == "The deal would be guaranteed by Turkey, and it said it would respond."
    # A state of another sentence is not backed by the quote's.
    assert proposal.beneficiary is None
    assert [(d.field, d.value) for d in dropped] == [
        (
            "proposals[0].guarantors[1]",
            {"name": "Poland", "position": "unknown", "quote": "it said it would respond"},
        ),
        ("proposals[0].beneficiary", "Poland"),
    ]
