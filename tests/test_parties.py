"""A party is the state or organisation and the person speaking for it; a proposal keeps every
deadline the article gives it. The answers here are hand-built drafts (nothing came from a model).
"""

from __future__ import annotations

import pytest

from extractor.core.build import build, evidence_of, person_of
from extractor.core.grounding import locate
from extractor.core.rules import Findings, Found
from extractor.schemas import ArticleDraft, Party
from extractor.strategies import merge

TEXT = (
    "Ukrainian President Volodymyr Zelensky proposed that the US and the UK guarantee Ukraine's "
    "security. "
    "Президент Украины Владимир Зеленский предложил гарантии безопасности от США. "
    "Russia's foreign minister Sergei Lavrov said Moscow wanted guarantees of its own. "
    "Zelensky asked the US for guarantees. "
    "The guarantors would hold consultations within 24 hours and take a decision within 72 hours. "
    "So within 72 hours, all the guarantors must act."
)


def handbuilt_draft(**proposal: object) -> ArticleDraft:
    """A hand-built answer of one proposal, checked for shape only."""
    base: dict[str, object] = {"summary": "s", "quote": TEXT.split(". ")[0]}
    base.update(proposal)
    return ArticleDraft.model_validate({"proposals": [base]}, context={"ground": False})


def party(**proposal: object) -> tuple[Party | None, list[tuple[str, str]]]:
    proposals, dropped = build(handbuilt_draft(**proposal), TEXT)
    [built] = proposals
    return built.proposer, [(d.field, d.reason) for d in dropped]


@pytest.mark.parametrize(
    ("phrase", "code", "person"),
    [
        ("Ukrainian President Volodymyr Zelensky", "UKR", "Volodymyr Zelensky"),
        ("Ukraine's Volodymyr Zelensky", "UKR", "Volodymyr Zelensky"),
        ("US President Trump", "USA", "Trump"),
        ("President of Ukraine Volodymyr Zelensky", "UKR", "Volodymyr Zelensky"),
        ("France's foreign minister", "FRA", "France's foreign minister"),
        ("президент Украины Владимир Зеленский", "UKR", "Владимир Зеленский"),
        ("глава МИД России Сергей Лавров", "RUS", "Сергей Лавров"),
        ("Президент України Володимир Зеленський", "UKR", "Володимир Зеленський"),
        ("NATO Secretary General Mark Rutte", "NATO", "Mark Rutte"),
    ],
)
def test_the_state_of_a_person_is_read_from_the_words_naming_them(
    phrase: str, code: str, person: str
) -> None:
    assert person_of(phrase) == (code, person)


@pytest.mark.parametrize(
    "phrase", ["Volodymyr Zelensky", "Ukraine and Russia", "the Ukrainian side", "Zelensky"]
)
def test_words_naming_no_person_of_one_state_give_none(phrase: str) -> None:
    assert person_of(phrase) is None


def test_a_person_given_as_the_proposer_keeps_the_person_and_takes_the_state() -> None:
    proposer, dropped = party(proposer="Ukrainian President Volodymyr Zelensky")
    assert dropped == []
    assert proposer is not None
    assert (proposer.name, proposer.kind, proposer.code) == ("Ukraine", "state", "UKR")
    assert proposer.person == "Volodymyr Zelensky"
    assert proposer.evidence[0].quote.startswith("Ukrainian President Volodymyr Zelensky")


def test_state_and_person_given_apart_are_both_kept() -> None:
    proposer, dropped = party(proposer="Ukraine", proposer_person="Volodymyr Zelensky")
    assert dropped == []
    assert proposer is not None
    assert (proposer.name, proposer.code, proposer.person) == (
        "Ukraine",
        "UKR",
        "Volodymyr Zelensky",
    )


def test_only_a_person_given_takes_the_state_from_the_quote_around_them() -> None:
    quote = "Президент Украины Владимир Зеленский предложил гарантии"
    proposer, dropped = party(proposer_person="Владимир Зеленский", proposer_quote=quote)
    assert dropped == []
    assert proposer is not None
    assert (proposer.code, proposer.person) == ("UKR", "Владимир Зеленский")
    # A person given in the proposer field itself, with the state beside them in the quote.
    proposer, _ = party(
        proposer="Sergei Lavrov", proposer_quote="Russia's foreign minister Sergei Lavrov"
    )
    assert proposer is not None and (proposer.code, proposer.person) == ("RUS", "Sergei Lavrov")


def test_a_person_named_with_their_state_elsewhere_in_the_article_takes_it() -> None:
    # The quote names only Zelensky; the article's first sentence names him with his office.
    quote = "Zelensky asked the US for guarantees"
    proposer, dropped = party(proposer_person="Zelensky", proposer_quote=quote)
    assert dropped == []
    assert proposer is not None and (proposer.code, proposer.person) == ("UKR", "Zelensky")
    assert [e.quote for e in proposer.evidence] == [
        quote,
        "Ukrainian President Volodymyr Zelensky",
    ]


def test_a_state_elsewhere_in_the_sentence_is_not_the_persons() -> None:
    # "asked the US": the US is who is asked, not whom Zelensky speaks for; "gratitude to
    # President Trump" after "Ukrainian people's" is no Ukrainian president.
    text = "Zelensky asked the US for guarantees. Ukrainian people's gratitude to President Trump."
    draft = handbuilt_draft(
        quote="Zelensky asked the US for guarantees",
        proposer_person="Zelensky",
        beneficiary="Trump",
        beneficiary_quote="gratitude to President Trump",
    )
    [proposal], dropped = build(draft, text)
    assert proposal.proposer is None
    assert proposal.beneficiary is not None and proposal.beneficiary.code is None
    assert (
        "proposals[0].proposer",
        "no state or organisation named beside the person in the article",
    ) in [(d.field, d.reason) for d in dropped]
    assert person_of("Ukrainian people's strong gratitude to President Trump") is None
    assert person_of("Steve Witkoff, his envoy to Russia") is None


def test_a_person_the_article_does_not_name_is_dropped_and_the_state_kept() -> None:
    proposer, dropped = party(proposer="the US", proposer_person="Joe Biden")
    assert proposer is not None and (proposer.code, proposer.person) == ("USA", None)
    assert dropped == [("proposals[0].proposer.person", "'Joe Biden' is not named in the article")]
    # Given alone, such a person is no party (and nothing else goes wrong).
    proposer, dropped = party(proposer_person="Joe Biden")
    assert proposer is None
    assert dropped == [("proposals[0].proposer.person", "'Joe Biden' is not named in the article")]


def test_a_person_named_elsewhere_does_not_ground_a_state_the_quote_does_not_name() -> None:
    proposer, dropped = party(
        proposer="France", proposer_person="Sergei Lavrov", proposer_quote="Moscow wanted"
    )
    assert proposer is None
    assert dropped == [
        ("proposals[0].proposer", "'France' is not named in its quote 'Moscow wanted'")
    ]


def test_a_person_named_outside_the_quote_has_that_naming_as_evidence() -> None:
    proposer, dropped = party(
        proposer="Russia", proposer_person="Sergei Lavrov", proposer_quote="Moscow wanted"
    )
    assert dropped == []
    assert proposer is not None and (proposer.code, proposer.person) == ("RUS", "Sergei Lavrov")
    assert [e.quote for e in proposer.evidence] == ["Moscow wanted", "Sergei Lavrov"]
    # Named by the surname alone.
    proposer, dropped = party(
        proposer="Russia", proposer_person="Mr Lavrov", proposer_quote="Moscow wanted"
    )
    assert dropped == []
    assert proposer is not None and proposer.person == "Mr Lavrov"
    assert [e.quote for e in proposer.evidence] == ["Moscow wanted", "Lavrov"]


def test_a_person_and_state_their_quote_does_not_name_are_no_party() -> None:
    # The quote names Zelensky and the US, not Ukraine: neither state is made up for him.
    proposer, dropped = party(
        proposer="Ukrainian President Volodymyr Zelensky",
        proposer_quote="Zelensky asked the US for guarantees",
    )
    assert proposer is None
    assert [field for field, _ in dropped] == ["proposals[0].proposer"]
    assert "is not named in its quote" in dropped[0][1]


def test_every_deadline_is_kept_with_its_quote_and_purpose() -> None:
    proposals, dropped = build(
        handbuilt_draft(
            response_times=[
                {
                    "text": "24 hours",
                    "purpose": "consultations",
                    "quote": "hold consultations within 24 hours",
                },
                {
                    "text": "72 hours",
                    "purpose": "a decision",
                    "quote": "take a decision within 72 hours",
                },
                # The same deadline given again, at other words of the article.
                {"text": "72 hours", "purpose": "A decision", "quote": "So within 72 hours"},
            ]
        ),
        TEXT,
    )
    [proposal] = proposals
    assert [(r.text, r.hours, r.purpose) for r in proposal.response_times] == [
        ("24 hours", 24, "consultations"),
        ("72 hours", 72, "a decision"),
    ]
    assert [r.evidence[0].quote for r in proposal.response_times] == [
        "hold consultations within 24 hours",
        "take a decision within 72 hours",
    ]
    assert [(d.field, d.reason) for d in dropped] == [
        ("proposals[0].response_times[2]", "duplicate of an earlier response time")
    ]


def test_a_deadline_its_quote_does_not_give_is_dropped_and_the_others_kept() -> None:
    proposals, dropped = build(
        handbuilt_draft(
            response_times=[
                {"text": "48 hours", "quote": "hold consultations within 24 hours"},
                {"text": "72 hours", "quote": "take a decision within 72 hours"},
            ]
        ),
        TEXT,
    )
    assert [r.hours for r in proposals[0].response_times] == [72]
    assert [d.field for d in dropped] == ["proposals[0].response_times[0]"]


def _found(words: str) -> Found:
    span = locate(words, TEXT)
    assert span is not None
    return Found(words, evidence_of(span, TEXT, words))


def test_field_answers_keep_every_deadline_and_code_a_person_proposer() -> None:
    findings = Findings()
    findings.add("proposer", _found("Ukrainian President Volodymyr Zelensky"))
    findings.add("guarantors", _found("the UK"))
    for words in ("within 24 hours", "within 72 hours", "So within 72 hours"):
        findings.add("response_time", _found(words))
    [proposal], _ = merge(findings)
    assert proposal.proposer is not None
    assert (proposal.proposer.code, proposal.proposer.person) == ("UKR", "Volodymyr Zelensky")
    assert [r.hours for r in proposal.response_times] == [24, 72]


# An article naming its persons with their offices once, then by surname alone.
LATER = (
    "US President Donald Trump met British Prime Minister Keir Starmer on Monday. "
    "Ukraine has agreed to stay neutral and said it now seeks a security arrangement. "
    "Starmer has been chairing talks on a force for Ukraine. "
    "The Trump administration drew up the plan, Trump said. "
    "Lavrov said nothing."
)


def built_later(**proposal: object) -> tuple[list[object], list[tuple[str, str]]]:
    base: dict[str, object] = {"summary": "s", "quote": LATER.split(". ")[2]}
    base.update(proposal)
    draft = ArticleDraft.model_validate({"proposals": [base]}, context={"ground": False})
    proposals, dropped = build(draft, LATER)
    return list(proposals), [(d.field, d.value) for d in dropped]


def test_a_state_its_quote_leaves_out_is_backed_where_the_article_names_its_person() -> None:
    [proposal], _ = built_later(
        proposer="the United Kingdom",
        proposer_person="Keir Starmer",
        proposer_quote="Starmer has been chairing talks on a force for Ukraine",
    )
    assert (proposal.proposer.code, proposal.proposer.person) == ("GBR", "Keir Starmer")  # type: ignore[attr-defined]
    quotes = [e.quote for e in proposal.proposer.evidence]  # type: ignore[attr-defined]
    assert any("British Prime Minister Keir Starmer" in quote for quote in quotes)
    # A state the person is not named with is still refused.
    [proposal], _ = built_later(
        proposer="France",
        proposer_person="Keir Starmer",
        proposer_quote="Starmer has been chairing talks on a force for Ukraine",
    )
    assert proposal.proposer is None  # type: ignore[attr-defined]


def test_a_leaders_administration_speaks_for_the_leaders_state() -> None:
    [proposal], _ = built_later(
        proposer="the Trump administration",
        proposer_quote="The Trump administration drew up the plan",
    )
    assert (proposal.proposer.code, proposal.proposer.name) == ("USA", "United States")  # type: ignore[attr-defined]
    quotes = [e.quote for e in proposal.proposer.evidence]  # type: ignore[attr-defined]
    assert "US President Donald Trump" in quotes


def test_a_guarantor_named_through_its_leader_in_the_quote_is_backed_by_the_leaders_naming() -> (
    None
):
    [proposal], dropped = built_later(
        guarantors=[
            {"name": "Britain", "quote": "Starmer has been chairing talks on a force for Ukraine"},
            # A person the article names with no state backs nothing: still refused.
            {"name": "Russia", "quote": "Lavrov said nothing"},
            # Nor does a leader of another state.
            {"name": "France", "quote": "Starmer has been chairing talks on a force for Ukraine"},
        ]
    )
    [britain] = proposal.guarantors  # type: ignore[attr-defined]
    assert britain.actor.code == "GBR"
    assert any("British Prime Minister Keir Starmer" in e.quote for e in britain.evidence)
    assert {str(v) for _, v in dropped} >= {
        str({"name": "Russia", "position": "unknown", "quote": "Lavrov said nothing"})
    }
    assert any("France" in str(v) for _, v in dropped)
