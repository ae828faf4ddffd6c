"""Tests for the scorer: hand-made records and gold annotations, no model involved."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from extractor.errors import InputError
from extractor.eval.evaluate import (
    ATTRIBUTES,
    FIELDS,
    Accuracy,
    AttributeScore,
    FieldScore,
    Report,
    compare,
    load_gold,
    load_gold_sets,
    load_records,
    render_comparison,
    render_table,
    score,
)

GOLD_DIR = Path(__file__).resolve().parent / "gold"

ARTICLE = "a.txt"
TEXT = (
    "Kyiv demands guarantees from its allies. "
    "The \u201cguarantors\u201d would respond within 72 hours. "
    "Crimea is left out."
)


# ------------------------------------------------------------------------------ helpers


def actor(code: str | None, name: str = "X", kind: str = "state") -> dict[str, Any]:
    return {"name": name, "kind": kind, "code": code}


def proposal(
    *,
    proposer: str | None = None,
    guarantors: tuple[str | None, ...] = (),
    hours: float | tuple[float, ...] | None = None,
    territories: tuple[str, ...] = (),
    conditions: tuple[str, ...] = (),
    evidence: tuple[dict[str, Any], ...] = (),
    guarantee_type: str = "other",
    legally_binding: bool | None = None,
    positions: dict[str, str] | None = None,
    stances: tuple[tuple[str | None, str], ...] = (),
) -> dict[str, Any]:
    """A hand-made proposal holding exactly the given values (nested evidence left empty);
    a guarantor's position is ``positions[code]``, else ``proposed``; ``stances`` are
    (actor code, stance) pairs."""
    return {
        "summary": "made up",
        "proposer": None if proposer is None else actor(proposer),
        "beneficiary": None,
        "guarantee_type": guarantee_type,
        "legally_binding": legally_binding,
        "guarantors": [
            {
                "actor": actor(code),
                "position": (positions or {}).get(str(code), "proposed"),
                "evidence": [],
            }
            for code in guarantors
        ],
        "response_times": [
            {"text": f"within {h} hours", "hours": h, "purpose": None, "evidence": []}
            for h in ((hours,) if isinstance(hours, float | int) else hours or ())
        ],
        "excluded_territories": [
            {"name": name, "text": name, "evidence": []} for name in territories
        ],
        "conditions": [{"text": t, "bound_party": None, "evidence": []} for t in conditions],
        "stances": [
            {
                "speaker": actor(code, kind="person"),
                "actor": None if code is None else actor(code),
                "stance": stance,
                "evidence": [],
            }
            for code, stance in stances
        ],
        "evidence": list(evidence),
    }


def record(
    *proposals: dict[str, Any],
    source: str = ARTICLE,
    text: str = TEXT,
    error: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A hand-made extraction record for the article ``source``."""
    return {
        "schema_version": "1",
        "article": {
            "id": "sha256:0",
            "source": source,
            "title": None,
            "published": None,
            "language": "en",
            "text": text,
        },
        "proposals": list(proposals),
        "dropped": [],
        "provenance": {},
        "error": error,
    }


def gold(
    article: str = ARTICLE,
    *,
    has_proposal: bool | None = True,
    proposers: tuple[list[str], list[str]] = ([], []),
    guarantors: tuple[list[str], list[str]] = ([], []),
    hours: tuple[list[float], list[float]] = ([], []),
    territories: tuple[list[str], list[str]] = ([], []),
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A hand-made gold annotation; each set field is (required, optional)."""

    def entry(pair: tuple[list[Any], list[Any]]) -> dict[str, list[Any]]:
        return {"required": list(pair[0]), "optional": list(pair[1])}

    return {
        "article": article,
        "has_proposal": has_proposal,
        "proposers": entry(proposers),
        "guarantors": entry(guarantors),
        "response_time_hours": entry(hours),
        "excluded_territories": entry(territories),
        "conditions": conditions or [],
        "notes": "",
    }


def attributes(
    entry: dict[str, Any],
    *,
    positions: dict[str, list[str]] | None = None,
    types: tuple[list[str], list[str]] | None = None,
    binding: bool | str | None = "absent",
    stances: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``entry`` with the attribute keys given (a key left out stays unannotated)."""
    extra: dict[str, Any] = {}
    if positions is not None:
        extra["positions"] = positions
    if types is not None:
        extra["guarantee_type"] = {"required": types[0], "optional": types[1]}
    if binding != "absent":
        extra["legally_binding"] = binding
    if stances is not None:
        extra["stances"] = stances
    return {**entry, **extra}


def gold_stance(actor_code: str, *stances: str, required: bool = True) -> dict[str, Any]:
    return {
        "speaker": "someone",
        "actor": actor_code,
        "stance": list(stances),
        "required": required,
    }


def attribute(report: Report, name: str) -> AttributeScore:
    return next(a for a in report.attributes if a.field == name)


def set_counts(score: FieldScore | Accuracy) -> tuple[int, int, int, int]:
    """tp_precision, n_pred, tp_recall, n_required of an attribute scored as a set field."""
    assert isinstance(score, FieldScore)
    return score.tp_precision, score.n_pred, score.tp_recall, score.n_required


def cond(cid: str, keywords: list[str], *, required: bool = True) -> dict[str, Any]:
    return {"id": cid, "required": required, "keywords": keywords}


def evidence(quote: str, start: int, end: int, match: str) -> dict[str, Any]:
    return {"quote": quote, "start": start, "end": end, "match": match}


def field(report: Report, name: str) -> FieldScore:
    return next(s for s in report.fields if s.field == name)


def counts(report: Report, name: str) -> tuple[int, int, int, int]:
    s = field(report, name)
    return s.tp_precision, s.n_pred, s.tp_recall, s.n_required


def by_article(*golds: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["article"]: g for g in golds}


# ------------------------------------------------------------------------------ set fields


def test_perfect_article_scores_one_everywhere() -> None:
    g = gold(
        proposers=(["UKR"], []),
        guarantors=(["USA", "GBR"], []),
        hours=([72], []),
        territories=(["Crimea"], []),
        conditions=[cond("neutrality", ["neutral"])],
    )
    r = record(
        proposal(
            proposer="UKR",
            guarantors=("USA", "GBR"),
            hours=72,
            territories=("Crimea",),
            conditions=("Ukraine stays neutral",),
        )
    )
    report = score([r], by_article(g))
    for s in report.fields:
        assert (s.precision, s.recall, s.f1) == (1.0, 1.0, 1.0), s.field
    assert report.has_proposal_accuracy == 1.0
    (article,) = report.articles
    assert article.scored and article.perfect
    assert not any(article.false_positives.values()) and not any(article.misses.values())


def test_optional_values_are_neither_penalised_nor_required() -> None:
    g = gold(guarantors=(["USA"], ["RUS", "NATO"]))
    with_optional = score([record(proposal(guarantors=("USA", "RUS")))], by_article(g))
    assert counts(with_optional, "guarantors") == (2, 2, 1, 1)
    assert field(with_optional, "guarantors").f1 == 1.0
    without_optional = score([record(proposal(guarantors=("USA",)))], by_article(g))
    assert counts(without_optional, "guarantors") == (1, 1, 1, 1)


def test_false_positive_lowers_precision_and_is_listed() -> None:
    g = gold(guarantors=(["USA", "GBR"], []))
    report = score([record(proposal(guarantors=("USA", "GBR", "CHN")))], by_article(g))
    s = field(report, "guarantors")
    assert (s.tp_precision, s.n_pred) == (2, 3)
    assert s.precision == pytest.approx(2 / 3)
    assert s.recall == 1.0
    assert s.f1 == pytest.approx(0.8)
    assert report.articles[0].false_positives["guarantors"] == ["CHN"]


def test_miss_lowers_recall_and_is_listed() -> None:
    g = gold(guarantors=(["USA", "GBR", "FRA", "DEU"], []))
    report = score([record(proposal(guarantors=("USA",)))], by_article(g))
    s = field(report, "guarantors")
    assert s.precision == 1.0
    assert (s.tp_recall, s.n_required, s.support) == (1, 4, 4)
    assert s.recall == 0.25
    assert report.articles[0].misses["guarantors"] == ["DEU", "FRA", "GBR"]


def test_micro_average_sums_counts_over_articles() -> None:
    g1 = gold("one.txt", guarantors=(["USA", "GBR"], ["RUS"]))
    g2 = gold("two.txt", guarantors=(["FRA", "DEU", "POL"], []))
    r1 = record(proposal(guarantors=("USA", "RUS", "CHN")), source="one.txt")
    r2 = record(proposal(guarantors=("FRA",)), source="two.txt")
    report = score([r1, r2], by_article(g1, g2))
    # one: pred {USA, RUS, CHN} -> 2 allowed of 3, 1 required of 2
    # two: pred {FRA}           -> 1 allowed of 1, 1 required of 3
    assert counts(report, "guarantors") == (3, 4, 2, 5)
    s = field(report, "guarantors")
    assert s.precision == 0.75
    assert s.recall == 0.4
    # Micro, not macro: the macro recall would be (0.5 + 1/3) / 2.
    assert s.f1 == pytest.approx(2 * 0.75 * 0.4 / 1.15)


def test_values_are_unioned_over_proposals_and_null_codes_skipped() -> None:
    g = gold(proposers=(["UKR", "RUS"], []), guarantors=(["USA"], []))
    r = record(
        proposal(proposer="UKR", guarantors=("USA", None)),
        proposal(proposer="RUS", guarantors=("USA",)),
        proposal(proposer=None),
    )
    report = score([r], by_article(g))
    assert counts(report, "proposers") == (2, 2, 2, 2)
    # USA twice over two proposals is one predicted value; the null code is no value.
    assert counts(report, "guarantors") == (1, 1, 1, 1)


def test_a_joint_proposals_co_proposers_are_proposers() -> None:
    g = gold(proposers=(["GBR", "FRA"], []))
    joint = proposal(proposer="GBR")
    joint["co_proposers"] = [{**actor("FRA"), "evidence": []}, {**actor("DEU"), "evidence": []}]
    report = score([record(joint)], by_article(g))
    assert counts(report, "proposers") == (2, 3, 2, 2)
    assert report.articles[0].false_positives["proposers"] == ["DEU"]
    # A record without the field (schema version 3 and before) has its one proposer.
    alone = score([record(proposal(proposer="GBR"))], by_article(g))
    assert counts(alone, "proposers") == (1, 1, 1, 2)
    assert alone.articles[0].misses["proposers"] == ["FRA"]


def test_response_hours_compare_numerically() -> None:
    g = gold(hours=([72], []))
    report = score([record(proposal(hours=72.0))], by_article(g))
    assert counts(report, "response_time_hours") == (1, 1, 1, 1)
    wrong = score([record(proposal(hours=48.0))], by_article(g))
    assert wrong.articles[0].false_positives["response_time_hours"] == ["48"]
    assert wrong.articles[0].misses["response_time_hours"] == ["72"]


def test_every_deadline_of_a_proposal_is_scored() -> None:
    g = gold(hours=([24, 72], []))
    report = score([record(proposal(hours=(24.0, 72.0)))], by_article(g))
    assert counts(report, "response_time_hours") == (2, 2, 2, 2)
    # A record of schema version 2 holds one response time and is scored as it was.
    old = proposal()
    del old["response_times"]
    old["response_time"] = {"text": "within 72 hours", "hours": 72, "evidence": []}
    report = score([record(old)], by_article(g))
    assert report.articles[0].misses["response_time_hours"] == ["24"]


def test_territories_compare_case_insensitively() -> None:
    g = gold(territories=(["Crimea", "Donbas"], ["Donetsk"]))
    r = record(proposal(territories=("CRIMEA", "donbas")), proposal(territories=("DONETSK",)))
    report = score([r], by_article(g))
    assert counts(report, "excluded_territories") == (3, 3, 2, 2)


def test_record_matched_by_file_name_not_path() -> None:
    g = gold(proposers=(["UKR"], []))
    r = record(proposal(proposer="UKR"), source="some/dir/a.txt")
    report = score([r], by_article(g))
    assert report.unscored == []
    assert counts(report, "proposers") == (1, 1, 1, 1)


def test_field_score_undefined_and_zero_cases() -> None:
    nothing = FieldScore("guarantors", 0, 0, 0, 0)
    assert (nothing.precision, nothing.recall, nothing.f1) == (None, None, None)
    # Predicting nothing while something is required is a total miss, not a blank.
    silent = FieldScore("guarantors", 0, 0, 0, 2)
    assert (silent.precision, silent.recall, silent.f1) == (None, 0.0, 0.0)
    all_wrong = FieldScore("guarantors", 0, 3, 0, 2)
    assert (all_wrong.precision, all_wrong.recall, all_wrong.f1) == (0.0, 0.0, 0.0)
    # Nothing to find: recall, hence F1, is undefined; precision still tells about the noise.
    unasked = FieldScore("guarantors", 1, 2, 0, 0)
    assert (unasked.precision, unasked.recall, unasked.f1) == (0.5, None, None)


# ------------------------------------------------------------------------------ conditions


def test_condition_keywords_match_as_case_insensitive_substrings() -> None:
    g = gold(conditions=[cond("neutrality", ["Neutral", "non-bloc"]), cond("bases", ["bases"])])
    r = record(proposal(conditions=("Ukraine becomes NEUTRAL", "No foreign BASES on its soil")))
    report = score([r], by_article(g))
    assert counts(report, "conditions") == (2, 2, 2, 2)


def test_optional_conditions_count_for_precision_not_recall() -> None:
    g = gold(
        conditions=[
            cond("neutrality", ["neutral"]),
            cond("ceasefire", ["ceasefire"], required=False),
        ]
    )
    only_optional = score([record(proposal(conditions=("after a ceasefire",)))], by_article(g))
    assert counts(only_optional, "conditions") == (1, 1, 0, 1)
    assert only_optional.articles[0].misses["conditions"] == ["neutrality"]
    assert only_optional.articles[0].false_positives["conditions"] == []
    both = score(
        [record(proposal(conditions=("after a ceasefire", "neutral status")))], by_article(g)
    )
    assert counts(both, "conditions") == (2, 2, 1, 1)


def test_condition_false_positives_and_duplicate_texts() -> None:
    g = gold(conditions=[cond("neutrality", ["neutral"])])
    r = record(
        proposal(conditions=("Neutral status", "Pay reparations")),
        proposal(conditions=("neutral STATUS", "pay reparations", "Pay reparations")),
    )
    report = score([r], by_article(g))
    # Texts identical up to case are one predicted condition for the article.
    assert counts(report, "conditions") == (1, 2, 1, 1)
    assert report.articles[0].false_positives["conditions"] == ["Pay reparations"]
    assert report.articles[0].misses["conditions"] == []


# ------------------------------------------------------------------------------ has_proposal


def test_null_has_proposal_is_excluded_from_accuracy() -> None:
    g1 = gold("one.txt", has_proposal=None)
    g2 = gold("two.txt", has_proposal=True)
    report = score(
        [record(source="one.txt"), record(proposal(), source="two.txt")], by_article(g1, g2)
    )
    assert (report.has_proposal_correct, report.has_proposal_total) == (1, 1)
    assert report.has_proposal_accuracy == 1.0


def test_has_proposal_false_with_no_proposals_is_correct() -> None:
    g1 = gold("one.txt", has_proposal=False)
    g2 = gold("two.txt", has_proposal=False)
    report = score(
        [record(source="one.txt"), record(proposal(), source="two.txt")], by_article(g1, g2)
    )
    assert (report.has_proposal_correct, report.has_proposal_total) == (1, 2)
    assert [a.predicted_has_proposal for a in report.articles] == [False, True]
    assert report.articles[0].perfect and not report.articles[1].perfect


# ------------------------------------------------------------------------------ bookkeeping


def test_record_without_gold_is_unscored_and_counts_for_nothing() -> None:
    g = gold(guarantors=(["USA"], []))
    stray = record(
        proposal(guarantors=("CHN",), evidence=(evidence("Kyiv", 0, 4, "exact"),)),
        source="stray.txt",
    )
    report = score([stray, record(proposal(guarantors=("USA",)))], by_article(g))
    assert report.unscored == ["stray.txt"]
    assert counts(report, "guarantors") == (1, 1, 1, 1)
    assert report.grounding_total == 0
    assert report.has_proposal_total == 1
    assert [(a.article, a.scored) for a in report.articles] == [
        ("stray.txt", False),
        (ARTICLE, True),
    ]


def test_record_with_error_predicts_nothing_and_shows_its_type() -> None:
    g = gold(guarantors=(["USA"], []))
    failed = record(
        # Partial output on a failed record must not count.
        proposal(guarantors=("USA",), evidence=(evidence("Kyiv", 0, 4, "exact"),)),
        error={"type": "OutputError", "message": "still invalid after 3 re-asks"},
    )
    report = score([failed], by_article(g))
    assert counts(report, "guarantors") == (0, 0, 0, 1)
    assert (report.has_proposal_correct, report.has_proposal_total) == (0, 1)
    assert report.grounding_total == 0
    (article,) = report.articles
    assert article.error == "OutputError"
    assert not article.predicted_has_proposal
    assert article.misses["guarantors"] == ["USA"]
    assert "error: OutputError" in render_table(report)


def test_duplicate_record_scores_only_the_first() -> None:
    g = gold(guarantors=(["USA"], []))
    first = record(proposal(guarantors=("USA",)))
    again = record(proposal(guarantors=("CHN",)), source="elsewhere/a.txt")
    report = score([first, again], by_article(g))
    assert counts(report, "guarantors") == (1, 1, 1, 1)
    assert report.unscored == ["a.txt (duplicate)"]
    assert [a.scored for a in report.articles] == [True, False]
    assert report.has_proposal_total == 1


# ------------------------------------------------------------------------------ grounding


def test_grounding_share_counts_only_verbatim_quotes_on_word_boundaries() -> None:
    exact_quote = "Kyiv demands guarantees"
    assert TEXT.startswith(exact_quote)
    start = TEXT.index("The \u201cguarantors\u201d")
    end = start + len("The \u201cguarantors\u201d would respond")
    items = (
        # grounded: the quote is the article's text at its offsets
        evidence(exact_quote, 0, len(exact_quote), "exact"),
        evidence(TEXT[start:end], start, end, "normalized"),
        # not grounded: the model's wording (straight quotes, a dropped letter) kept as quote
        evidence('the "guarantors" would respond.', start, end, "normalized"),
        evidence("Kyiv demand guarantees", 0, len(exact_quote), "fuzzy"),
        # not grounded: the span cuts a word ("Kyi" of "Kyiv"; "guarantee" of "guarantees")
        evidence("Kyi", 0, 3, "exact"),
        evidence(exact_quote[:-1], 0, len(exact_quote) - 1, "exact"),
        # not grounded: the offsets point somewhere else
        evidence("Crimea is left out", 0, 18, "exact"),
    )
    report = score([record(proposal(evidence=items))], by_article(gold()))
    assert (report.grounding_matched, report.grounding_total) == (2, 7)


def test_grounding_reads_nested_evidence_and_rejects_bad_spans() -> None:
    p = proposal(guarantors=("USA",))
    p["guarantors"][0]["evidence"] = [evidence("Kyiv", 0, 4, "exact")]
    p["conditions"] = [
        {
            "text": "t",
            "bound_party": None,
            # out of range, then an exact label on a span that only fuzzily resembles the quote
            "evidence": [
                evidence("Kyiv", 0, 10_000, "exact"),
                evidence("Kyiv demand guarantees", 0, 23, "exact"),
            ],
        }
    ]
    report = score([record(p)], by_article(gold()))
    assert (report.grounding_matched, report.grounding_total) == (1, 3)


def test_grounding_share_is_none_without_evidence() -> None:
    report = score([record(proposal())], by_article(gold()))
    assert (report.grounding_matched, report.grounding_total) == (0, 0)
    assert report.grounding_share is None


# ------------------------------------------------------------------------------ loading


def test_load_records_reads_jsonl_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    lines = [json.dumps(record(proposal(proposer="UKR"))), "", "   ", json.dumps(record())]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records = load_records(path)
    assert len(records) == 2
    assert records[0]["proposals"][0]["proposer"]["code"] == "UKR"


def test_load_records_keeps_line_separators_inside_strings(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    text = "one\u2028two\u0085three"
    path.write_text(json.dumps(record(text=text), ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_records(path)[0]["article"]["text"] == text


def test_load_records_names_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(json.dumps(record()) + "\n\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"out\.jsonl:3: invalid JSON"):
        load_records(path)


def test_load_records_rejects_a_line_that_is_no_record(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text(json.dumps(record()) + "\n" + json.dumps({"article": {}}) + "\n")
    with pytest.raises(InputError, match=r"out\.jsonl:2: missing article\.source"):
        load_records(path)


def test_load_records_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere\.jsonl"):
        load_records(tmp_path / "nowhere.jsonl")


def test_load_gold_reads_the_copied_gold() -> None:
    loaded = load_gold(GOLD_DIR)
    assert len(loaded) == 5
    for name, entry in loaded.items():
        assert entry["article"] == name
        assert (GOLD_DIR / name).with_suffix(".json").is_file()


def test_load_gold_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text(json.dumps(gold("good.txt")), encoding="utf-8")
    (tmp_path / "broken.json").write_text('{"article": "b.txt",', encoding="utf-8")
    with pytest.raises(InputError, match=r"broken\.json: invalid JSON at line 1.*gold/README"):
        load_gold(tmp_path)


def test_load_gold_missing_keys_names_the_file_and_keys(tmp_path: Path) -> None:
    entry = gold("x.txt")
    del entry["guarantors"], entry["conditions"]
    (tmp_path / "x.json").write_text(json.dumps(entry), encoding="utf-8")
    with pytest.raises(InputError, match=r"x\.json: missing key\(s\) guarantors, conditions"):
        load_gold(tmp_path)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"has_proposal": "yes"}, "has_proposal"),
        ({"guarantors": ["USA"]}, "'guarantors' must be"),
        ({"response_time_hours": {"required": ["72"], "optional": []}}, "holding numbers"),
        ({"conditions": [{"id": "c", "required": True, "keywords": [""]}]}, r"conditions\[0\]"),
    ],
)
def test_load_gold_rejects_malformed_values(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    (tmp_path / "x.json").write_text(json.dumps({**gold("x.txt"), **change}), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_gold(tmp_path)


def test_load_gold_rejects_missing_or_empty_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such gold directory"):
        load_gold(tmp_path / "absent")
    with pytest.raises(InputError, match=r"no \*\.json gold files"):
        load_gold(tmp_path)


def test_load_gold_rejects_two_files_for_one_article(tmp_path: Path) -> None:
    for name in ("one.json", "two.json"):
        (tmp_path / name).write_text(json.dumps(gold("same.txt")), encoding="utf-8")
    with pytest.raises(InputError, match=r"two\.json: article 'same\.txt' is already annotated"):
        load_gold(tmp_path)


# ------------------------------------------------------------------------------ attributes


def test_position_accuracy_counts_only_guarantors_the_gold_annotates() -> None:
    g = attributes(
        gold(guarantors=(["USA", "GBR"], [])),
        positions={"USA": ["willing", "conditional"], "GBR": ["unknown"]},
    )
    r = record(
        proposal(
            guarantors=("USA", "GBR", "CHN"),
            positions={"USA": "conditional", "GBR": "declined", "CHN": "willing"},
        )
    )
    report = score([r], by_article(g))
    position = attribute(report, "position")
    assert position.measured == Accuracy("position", 1, 2)
    # The constant answer: USA unknown is wrong, GBR unknown right.
    assert position.constant == Accuracy("position", 1, 2)
    assert position.beats_constant is False
    assert report.articles[0].false_positives["position"] == ["GBR declined (gold: unknown)"]


def test_position_pairs_are_counted_once_across_proposals() -> None:
    g = attributes(gold(guarantors=(["USA"], [])), positions={"USA": ["willing"]})
    r = record(
        proposal(guarantors=("USA",), positions={"USA": "willing"}),
        proposal(guarantors=("USA",), positions={"USA": "willing"}),
        proposal(guarantors=("USA",), positions={"USA": "opposed"}),
    )
    assert attribute(score([r], by_article(g)), "position").measured == Accuracy("position", 1, 2)


def test_guarantee_type_is_a_set_field_beside_the_constant_other() -> None:
    g = attributes(gold(), types=(["peacekeeping_force", "other"], ["military_assistance"]))
    r = record(
        proposal(guarantee_type="peacekeeping_force"),
        proposal(guarantee_type="military_assistance"),
        proposal(guarantee_type="collective_defense"),
    )
    report = score([r], by_article(g))
    types = attribute(report, "guarantee_type")
    assert set_counts(types.measured) == (2, 3, 1, 2)
    assert set_counts(types.constant) == (1, 1, 1, 2)
    assert report.articles[0].false_positives["guarantee_type"] == ["collective_defense"]
    assert report.articles[0].misses["guarantee_type"] == ["other"]


def test_legally_binding_null_is_no_answer_and_a_wrong_one_is_a_false_positive() -> None:
    said = attributes(gold("said.txt"), binding=True)
    unsaid = attributes(gold("unsaid.txt"), binding=None)
    records = [
        record(proposal(legally_binding=False), proposal(), source="said.txt"),
        record(proposal(legally_binding=True), source="unsaid.txt"),
    ]
    report = score(records, by_article(said, unsaid))
    binding = attribute(report, "legally_binding")
    assert set_counts(binding.measured) == (0, 2, 0, 1)
    assert set_counts(binding.constant) == (0, 0, 0, 1)
    assert isinstance(binding.constant, FieldScore)
    assert (binding.constant.precision, binding.constant.f1) == (None, 0.0)
    first, second = report.articles
    assert first.false_positives["legally_binding"] == ["false"]
    assert first.misses["legally_binding"] == ["true"]
    assert second.false_positives["legally_binding"] == ["true"]
    assert second.misses["legally_binding"] == []


def test_stances_match_actor_and_an_accepted_stance() -> None:
    g = attributes(
        gold(),
        stances=[
            gold_stance("RUS", "opposes"),
            gold_stance("USA", "supports", "conditional", required=False),
            gold_stance("GBR", "skeptical"),
        ],
    )
    r = record(
        proposal(
            stances=(
                ("RUS", "opposes"),
                ("USA", "conditional"),
                ("GBR", "supports"),
                (None, "supports"),
            )
        ),
        proposal(stances=(("RUS", "opposes"),)),
    )
    report = score([r], by_article(g))
    stances = attribute(report, "stances")
    assert set_counts(stances.measured) == (2, 4, 1, 2)
    assert stances.beats_constant is True
    article = report.articles[0]
    assert article.false_positives["stances"] == ["GBR supports", "no actor supports"]
    assert article.misses["stances"] == ["GBR skeptical (someone)"]


def test_gold_without_attribute_keys_scores_no_attribute() -> None:
    report = score([record(proposal(guarantee_type="assurances"))], by_article(gold()))
    assert all(a.articles == 0 for a in report.attributes)
    assert all(AttributeScore.headline(a.measured) is None for a in report.attributes)
    assert report.articles[0].perfect
    table = render_table(report)
    assert "attribute" not in table and "guarantee_type" not in table


def test_render_table_sets_each_attribute_beside_its_constant() -> None:
    g = attributes(
        gold(guarantors=(["USA"], [])),
        positions={"USA": ["willing"]},
        types=(["peacekeeping_force"], []),
        binding=True,
        stances=[gold_stance("RUS", "opposes")],
    )
    r = record(
        proposal(
            guarantors=("USA",),
            positions={"USA": "willing"},
            guarantee_type="peacekeeping_force",
            legally_binding=True,
            stances=(("RUS", "opposes"),),
        )
    )
    lines = render_table(score([r], by_article(g))).splitlines()
    start = lines.index(next(line for line in lines if line.startswith("attribute")))
    assert lines[start].split() == ["attribute", "precision", "recall", "F1", "support", "constant"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[start + 1 : start + 5]}
    assert list(rows) == list(ATTRIBUTES)
    assert rows["position"] == ["accuracy", "1.000", "n=1", "0.000", "unknown"]
    assert rows["guarantee_type"] == ["1.000", "1.000", "1.000", "1", "0.000", "other"]
    assert rows["legally_binding"] == ["1.000", "1.000", "1.000", "1", "0.000", "null"]
    assert rows["stances"] == ["1.000", "1.000", "1.000", "1", "0.000", "none"]


def test_render_comparison_puts_the_constant_row_under_each_attribute(tmp_path: Path) -> None:
    g = attributes(gold(), types=(["assurances"], []), stances=[gold_stance("RUS", "opposes")])
    filled = tmp_path / "filled.jsonl"
    filled.write_text(
        json.dumps(record(proposal(guarantee_type="assurances", stances=(("RUS", "opposes"),))))
        + "\n",
        encoding="utf-8",
    )
    unfilled = tmp_path / "unfilled.jsonl"
    unfilled.write_text(json.dumps(record(proposal())) + "\n", encoding="utf-8")
    (comparison,) = compare([filled, unfilled], {"gold": by_article(g)})
    lines = render_comparison([comparison]).splitlines()
    at = lines.index(next(line for line in lines if line.startswith("guarantee_type")))
    assert lines[at].split() == [
        "guarantee_type", "1.000", "(1.00", "/", "1.00)", "0.000", "(0.00", "/", "0.00)",
        "support", "1",
    ]  # fmt: skip
    assert lines[at + 1].split() == [
        "constant", "other", "0.000", "(0.00", "/", "0.00)", "0.000", "(0.00", "/", "0.00)",
    ]  # fmt: skip
    assert lines[-1].split() == [
        "constant", "none", "0.000", "(-", "/", "0.00)", "0.000", "(-", "/", "0.00)",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"positions": {"USA": ["maybe"]}}, "'positions' must map"),
        ({"positions": {"CHN": ["willing"]}}, "names CHN, which 'guarantors' does not hold"),
        ({"positions": {"USA": []}}, "'positions' must map"),
        ({"guarantee_type": {"required": ["treaty"], "optional": []}}, "'guarantee_type' must"),
        ({"legally_binding": "yes"}, "'legally_binding' must be true, false or null"),
        ({"stances": [{"actor": "RUS", "stance": ["opposes"], "required": True}]}, r"stances\[0\]"),
        ({"stances": [gold_stance("RUS", "hates")]}, r"stances\[0\] must be"),
    ],
)
def test_load_gold_rejects_malformed_attributes(
    tmp_path: Path, change: dict[str, Any], message: str
) -> None:
    entry = {**gold("x.txt", guarantors=(["USA"], [])), **change}
    (tmp_path / "x.json").write_text(json.dumps(entry), encoding="utf-8")
    with pytest.raises(InputError, match=message):
        load_gold(tmp_path)


def test_attributes_to_json_name_the_measure_and_the_constant() -> None:
    g = attributes(gold(guarantors=(["USA"], [])), positions={"USA": ["unknown"]}, binding=None)
    r = record(proposal(guarantors=("USA",), positions={"USA": "unknown"}))
    data = json.loads(json.dumps(score([r], by_article(g)).to_json()))["attributes"]
    assert list(data) == list(ATTRIBUTES)
    assert data["position"] == {
        "measure": "accuracy",
        "accuracy": 1.0,
        "correct": 1,
        "total": 1,
        "articles": 1,
        "constant": {"answer": "unknown", "accuracy": 1.0, "correct": 1, "total": 1},
        "beats_constant": False,
    }
    assert data["legally_binding"]["measure"] == "f1"
    assert data["legally_binding"]["constant"]["answer"] == "null"
    assert data["stances"]["articles"] == 0


# ------------------------------------------------------------------------------ output


def _mixed_report() -> Report:
    g1 = gold("one.txt", guarantors=(["USA", "GBR"], []), hours=([72], []))
    g2 = gold("two.txt", has_proposal=False)
    records = [
        record(proposal(guarantors=("USA", "CHN"), hours=72), source="one.txt"),
        record(source="two.txt"),
        record(proposal(), source="stray.txt"),
        record(source="one.txt"),
    ]
    return score(records, by_article(g1, g2))


def test_to_json_round_trips_through_json_dumps() -> None:
    report = _mixed_report()
    data = json.loads(json.dumps(report.to_json()))
    assert list(data["fields"]) == list(FIELDS)
    assert data["fields"]["guarantors"] == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "support": 2,
        "tp_precision": 1,
        "n_pred": 2,
        "tp_recall": 1,
        "n_required": 2,
    }
    assert data["fields"]["proposers"]["precision"] is None
    assert data["has_proposal"] == {"accuracy": 1.0, "correct": 2, "total": 2}
    assert data["grounding"] == {"matched": 0, "total": 0, "share": None}
    assert data["unscored"] == ["stray.txt", "one.txt (duplicate)"]
    first = data["articles"][0]
    assert first["article"] == "one.txt"
    assert first["false_positives"]["guarantors"] == ["CHN"]
    assert first["misses"]["guarantors"] == ["GBR"]


def test_render_table_rows_in_order_with_three_decimals() -> None:
    table = render_table(_mixed_report())
    assert "\x1b" not in table
    lines = table.splitlines()
    names = [*FIELDS, "has_proposal", "grounding"]
    row_index = [next(i for i, line in enumerate(lines) if line.startswith(n)) for n in names]
    assert row_index == sorted(row_index)
    assert row_index == list(range(1, len(names) + 1))
    guarantors_row = lines[row_index[1]].split()
    assert guarantors_row == ["guarantors", "0.500", "0.500", "0.500", "2"]
    assert lines[row_index[0]].split() == ["proposers", "-", "-", "-", "0"]
    assert "accuracy 1.000" in lines[row_index[5]] and "n=2" in lines[row_index[5]]
    assert "share -" in lines[row_index[6]] and "0/0" in lines[row_index[6]]


def test_render_table_lists_article_errors_and_unscored_records() -> None:
    table = render_table(_mixed_report())
    assert "  one.txt:\n    guarantors: false positives: CHN; misses: GBR\n" in table
    assert "  two.txt: none\n" in table
    assert "stray.txt:" not in table.split("not scored")[0]
    assert table.rstrip("\n").splitlines()[-1] == (
        "not scored (no gold file): stray.txt, one.txt (duplicate)"
    )


def test_render_table_reports_a_wrong_has_proposal() -> None:
    report = score([record(proposal())], by_article(gold(has_proposal=False)))
    assert "has_proposal: expected false, predicted true" in render_table(report)


# ------------------------------------------------------------------------------ real gold


def _perfect_record(entry: dict[str, Any]) -> dict[str, Any]:
    """A record whose proposals hold exactly the gold's required values (and each annotated
    guarantor's first accepted position)."""
    if entry["has_proposal"] is False:
        return record(source=f"seeds/{entry['article']}")
    proposers = entry["proposers"]["required"]
    hours = entry["response_time_hours"]["required"]
    types = entry["guarantee_type"]
    kinds = types["required"] or types["optional"] or ["other"]
    common = {
        "legally_binding": entry["legally_binding"],
        "positions": {code: accepted[0] for code, accepted in entry["positions"].items()},
    }
    first = proposal(
        proposer=proposers[0] if proposers else None,
        guarantors=tuple(entry["guarantors"]["required"]),
        hours=hours[0] if hours else None,
        territories=tuple(entry["excluded_territories"]["required"]),
        conditions=tuple(c["keywords"][0] for c in entry["conditions"] if c["required"]),
        guarantee_type=kinds[0],
        stances=tuple((s["actor"], s["stance"][0]) for s in entry["stances"] if s["required"]),
        **common,
    )
    # One proposer, response time and type per proposal: extra ones need extra proposals.
    extra = [proposal(proposer=code, guarantee_type=kinds[0], **common) for code in proposers[1:]]
    extra += [proposal(hours=h, guarantee_type=kinds[0], **common) for h in hours[1:]]
    extra += [proposal(guarantee_type=kind, **common) for kind in kinds[1:]]
    return record(first, *extra, source=f"seeds/{entry['article']}")


def test_real_gold_scores_perfect_against_its_own_required_values() -> None:
    sets = load_gold_sets([GOLD_DIR, GOLD_DIR / "corpus"])
    loaded = {name: entry for one in sets.values() for name, entry in one.items()}
    assert len(loaded) == 17
    report = score([_perfect_record(entry) for entry in loaded.values()], loaded)
    assert report.unscored == []
    assert len(report.articles) == len(loaded)
    for s in report.fields:
        assert s.n_required > 0, s.field
        assert s.f1 == 1.0, s.field
    for a in report.attributes:
        assert a.articles == 17, a.field
        assert AttributeScore.headline(a.measured) == 1.0, a.field
    assert report.has_proposal_accuracy == 1.0
    assert all(a.perfect for a in report.articles)


def test_the_constant_answer_on_the_real_gold() -> None:
    """The constant answer on the perfect records: every annotated guarantor "unknown", no
    stance, no legally_binding, type "other" (required only in h06)."""
    sets = load_gold_sets([GOLD_DIR, GOLD_DIR / "corpus"])
    loaded = {name: entry for one in sets.values() for name, entry in one.items()}
    report = score([_perfect_record(entry) for entry in loaded.values()], loaded)
    constant = {a.field: a.constant for a in report.attributes}
    assert isinstance(constant["position"], Accuracy)
    assert isinstance(constant["stances"], FieldScore)
    assert constant["stances"].n_pred == 0 and constant["stances"].f1 == 0.0
    assert isinstance(constant["legally_binding"], FieldScore)
    assert (constant["legally_binding"].n_required, constant["legally_binding"].f1) == (4, 0.0)
    types = constant["guarantee_type"]
    assert isinstance(types, FieldScore)
    assert types.tp_recall == 1  # h06 requires "other" (the minerals deal)
