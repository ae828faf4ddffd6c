"""Events: proposals grouped across articles, consolidated, scored, loaded, exported (hand-built
records from tests/eventrecords.py; no server)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from eventrecords import ISTANBUL_RU, ISTANBUL_WSJ, istanbul_records, record
from test_sink import db_url  # noqa: F401  (the SQLite and PostgreSQL databases)

import extractor
from extractor.cli import cli
from extractor.eval.eventscore import EventGold, Mention, load_event_gold, score_events
from extractor.outputs import eventpage, export, grouping, sink
from extractor.schemas import ExtractionRecord

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "tests" / "gold" / "events" / "events.json"


def _members(found: list[dict[str, Any]]) -> list[list[str]]:
    return [sorted(r["source"] for r in event["reports"]) for event in found]


def test_reports_of_one_proposal_in_two_languages_are_one_event_and_another_is_not() -> None:
    found = grouping.events(istanbul_records())
    # Events come earliest report first: the Russian report of 29 March.
    assert _members(found) == [["nokta.txt", "rt.txt", "wsj.txt"], ["economist.txt"]]
    istanbul = next(e for e in found if e["report_count"] == 3)
    assert (istanbul["first_seen"], istanbul["last_seen"]) == ("2022-03-29", "2022-04-01")
    assert [r["published"] for r in istanbul["reports"]] == [
        "2022-03-29",
        "2022-03-30",
        "2022-04-01",
    ]
    assert istanbul["proposer"] == {"name": "UKR", "code": "UKR", "person": None, "reports": 3}
    wsj = next(r for r in istanbul["reports"] if r["source"] == "wsj.txt")
    assert wsj["url"] == "https://example.org/wsj" and wsj["outlet"] is None
    by_code = {g["code"]: g for g in istanbul["guarantors"]}
    assert {code: g["report_count"] for code, g in by_code.items()} == {
        "USA": 3,
        "GBR": 3,
        "TUR": 3,
    }
    gbr = by_code["GBR"]
    assert (gbr["first_named"], gbr["last_named"]) == ("2022-03-29", "2022-04-01")
    assert [(p["published"], p["position"]) for p in gbr["positions"]] == [
        ("2022-03-29", "declined"),
        ("2022-03-30", "willing"),
        ("2022-04-01", "willing"),
    ]


def test_response_times_exclusions_and_disagreements_keep_their_reports_and_quotes() -> None:
    istanbul = next(e for e in grouping.events(istanbul_records()) if e["report_count"] == 3)
    (deadline,) = istanbul["response_times"]
    assert deadline["hours"] == 72.0
    assert [r["text"] for r in deadline["reports"]] == ["within 72 hours", "within three days"]
    (crimea,) = istanbul["exclusions"]
    assert crimea["name"] == "Crimea"
    assert [r["text"] for r in crimea["reports"]] == ["Крым", "Crimea"]
    (disagreement,) = istanbul["disagreements"]
    assert disagreement["code"] == "GBR"
    assert disagreement["declined"]["evidence"]["quote"] == "Великобритании"
    assert disagreement["named"]["evidence"]["quote"] == "Britain and Turkey"
    quote = disagreement["named"]["evidence"]
    assert ISTANBUL_WSJ[quote["start"] : quote["end"]] == quote["quote"]
    declined = disagreement["declined"]["evidence"]
    assert ISTANBUL_RU[declined["start"] : declined["end"]] == "Великобритании"


def test_ids_do_not_depend_on_order_and_survive_a_later_report() -> None:
    records = istanbul_records()
    first = grouping.events(records)
    shuffled = records[:]
    random.Random(7).shuffle(shuffled)
    assert grouping.events(shuffled) == first
    later = record(
        "later.txt",
        "Kyiv again asked the US, the UK and Turkey to guarantee a neutral Ukraine.",
        "2022-04-20",
        {
            "quote": "Kyiv again asked the US, the UK and Turkey",
            "proposer": "UKR",
            "beneficiary": "UKR",
            "type": "neutrality_with_guarantees",
            "guarantors": [
                ("USA", "the US", "unknown"),
                ("GBR", "the UK", "unknown"),
                ("TUR", "Turkey", "unknown"),
            ],
        },
    )
    again = grouping.events([*records, later])
    assert {e["id"] for e in first} == {e["id"] for e in again}
    istanbul = next(e for e in again if e["report_count"] == 4)
    # The id is the digest of the earliest report's id (the Russian report, 29 March).
    nokta = records[2]
    assert istanbul["id"] == grouping.event_id(grouping.reports_of([nokta])[0][0])


def test_a_second_record_of_an_article_counts_once() -> None:
    records = istanbul_records()
    other_run = records[0].model_copy(
        update={"provenance": records[0].provenance.model_copy(update={"strategy": "rules"})}
    )
    reports, repeated = grouping.reports_of([*records, other_run])
    assert (len(reports), repeated) == (4, 1)


def test_reports_years_apart_are_two_events_and_two_proposals_of_one_article_stay_apart() -> None:
    spec = {
        "quote": "Russia demands that NATO not enlarge",
        "proposer": "RUS",
        "beneficiary": "RUS",
        "type": "non_enlargement_pledge",
        "guarantors": [("NATO", "NATO", "unknown")],
    }
    text = "Russia demands that NATO not enlarge."
    old, new = (
        record("2014.txt", text, "2014-11-19", spec),
        record("2021.txt", text + " ", "2021-12-23", spec),
    )
    assert len(grouping.events([old, new])) == 2
    assert len(grouping.events([old, record("2014b.txt", text + "  ", "2014-11-20", spec)])) == 1
    two = record(
        "two.txt",
        "Options: years of military assistance; or Article 5 extended to Ukraine.",
        "2025-01-15",
        {
            "quote": "years of military assistance",
            "beneficiary": "UKR",
            "type": "military_assistance",
        },
        {
            "quote": "Article 5 extended to Ukraine",
            "beneficiary": "UKR",
            "type": "collective_defense",
        },
    )
    assert len(grouping.events([two])) == 2


COALITION = (
    "Britain and France will send troops to Ukraine after a peace deal. "
    "America would backstop the force, Britain said, and lead the monitoring of the ceasefire. "
    "The plan also sets up a monitoring mission."
)
COALITION_LATER = (
    "The coalition led by Britain and France, backed by the United States, agreed its "
    "reassurance force for Ukraine."
)


def _coalition_parts() -> ExtractionRecord:
    """A hand-built record reporting one plan as three proposals: the troops, the US backstop
    (sharing the beneficiary and a guarantor with the troops) and the monitoring (no guarantor,
    no type of its own)."""
    return record(
        "parts.txt",
        COALITION,
        "2025-03-12",
        {
            "quote": "Britain and France will send troops to Ukraine",
            "proposer": "GBR",
            "beneficiary": "UKR",
            "type": "peacekeeping_force",
            "guarantors": [("GBR", "Britain", "proposed"), ("FRA", "France", "proposed")],
        },
        {
            "quote": "America would backstop the force",
            "beneficiary": "UKR",
            "guarantors": [("USA", "America", "conditional"), ("GBR", "Britain said", "proposed")],
        },
        {
            "quote": "The plan also sets up a monitoring mission",
            "proposer": "GBR",
            "beneficiary": "UKR",
        },
    )


def _coalition_whole() -> ExtractionRecord:
    """A hand-built record of a later article reporting the same plan as one proposal."""
    return record(
        "whole.txt",
        COALITION_LATER,
        "2025-09-04",
        {
            "quote": "The coalition led by Britain and France, backed by the United States",
            "proposer": "GBR",
            "beneficiary": "UKR",
            "type": "peacekeeping_force",
            "guarantors": [
                ("GBR", "Britain", "proposed"),
                ("FRA", "France", "proposed"),
                ("USA", "the United States", "willing"),
            ],
        },
    )


def test_the_parts_of_one_plan_an_article_reports_join_another_articles_report_of_it() -> None:
    found = grouping.events([_coalition_parts(), _coalition_whole()])
    # Alone, the backstop and the monitoring fit the later report too little to join it.
    assert _members(found) == [["parts.txt", "parts.txt", "parts.txt", "whole.txt"]]
    (event,) = found
    assert [r["report"].split("#")[1] for r in event["reports"]] == ["0", "1", "2", "0"]
    assert event["article_count"] == 2
    # The event's id is that of the earliest report, whichever order the records come in.
    again = grouping.events([_coalition_whole(), _coalition_parts()])
    assert [e["id"] for e in again] == [event["id"]]


def _reports(*specs: dict[str, Any], text: str = "") -> list[grouping.Report]:
    quotes = " ".join(spec["quote"] for spec in specs)
    return grouping.reports_of([record("one.txt", text or quotes, "2025-01-15", *specs)])[0]


def test_proposals_sharing_the_beneficiary_and_a_guarantor_a_quote_or_a_term_are_one_plan() -> None:
    base = {"beneficiary": "UKR", "type": "military_assistance"}
    usa, gbr = ("USA", "the US", "unknown"), ("GBR", "the UK", "unknown")
    text = "Arms from the US and the UK; troops from the UK; within 72 hours; not Crimea."
    arms = {**base, "quote": "Arms from the US", "guarantors": [usa]}
    troops = {**base, "quote": "troops from the UK", "type": "peacekeeping_force"}
    # A shared guarantor.
    a, b = _reports({**arms, "guarantors": [usa, gbr]}, {**troops, "guarantors": [gbr]}, text=text)
    assert grouping.parts_of_one_plan(a, b)
    # No shared guarantor, quote or term: two proposals.
    a, b = _reports(arms, {**troops, "guarantors": [gbr]}, text=text)
    assert not grouping.parts_of_one_plan(a, b)
    # A shared response time, a shared excluded territory, an overlapping quote.
    deadline = {"deadline": ("within 72 hours", 72.0)}
    a, b = _reports({**arms, **deadline}, {**troops, "guarantors": [gbr], **deadline}, text=text)
    assert grouping.parts_of_one_plan(a, b)
    crimea = {"excluded": [("Crimea", "Crimea")]}
    a, b = _reports({**arms, **crimea}, {**troops, "guarantors": [gbr], **crimea}, text=text)
    assert grouping.parts_of_one_plan(a, b)
    a, b = _reports(arms, {**troops, "quote": "Arms from the US and the UK"}, text=text)
    assert grouping.parts_of_one_plan(a, b)
    # The same guarantor for another beneficiary (or none named) is another proposal.
    a, b = _reports(arms, {**troops, "beneficiary": None, "guarantors": [usa]}, text=text)
    assert not grouping.parts_of_one_plan(a, b)
    a, b = _reports(arms, {**troops, "beneficiary": "MDA", "guarantors": [usa]}, text=text)
    assert not grouping.parts_of_one_plan(a, b)


def test_a_proposal_adding_no_guarantor_type_or_party_of_its_own_is_part_of_the_plan() -> None:
    text = "A neutral Ukraine guaranteed by the US; the April draft; Article 5 for Ukraine."
    plan = {
        "quote": "A neutral Ukraine guaranteed by the US",
        "proposer": "UKR",
        "beneficiary": "UKR",
        "type": "neutrality_with_guarantees",
        "guarantors": [("USA", "the US", "unknown")],
    }
    draft = {"quote": "the April draft", "beneficiary": "UKR"}
    # No guarantor, type 'other' or the plan's own: a detail of the plan.
    for kind in ("other", "neutrality_with_guarantees"):
        a, b = _reports(plan, {**draft, "type": kind}, text=text)
        assert grouping.parts_of_one_plan(a, b) and grouping.parts_of_one_plan(b, a)
    # A type of its own (an option the article lists), another proposer, another beneficiary,
    # or no party in common: another proposal.
    for other in (
        {"type": "collective_defense"},
        {"proposer": "RUS"},
        {"beneficiary": "MDA"},
        {"beneficiary": None},
    ):
        a, b = _reports(plan, {**draft, **other}, text=text)
        assert not grouping.parts_of_one_plan(a, b), other
    # Where the plan's type is 'other', the detail may give one if it shares the proposer.
    vague = {**plan, "type": "other"}
    monitoring = {"quote": "Article 5 for Ukraine", "proposer": "UKR", "type": "collective_defense"}
    a, b = _reports(vague, monitoring, text=text)
    assert grouping.parts_of_one_plan(a, b)
    a, b = _reports(vague, {**monitoring, "proposer": None, "beneficiary": "UKR"}, text=text)
    assert not grouping.parts_of_one_plan(a, b)


def test_plans_join_through_each_other_and_do_not_depend_on_order() -> None:
    parts = _coalition_parts()
    reports = grouping.reports_of([parts, _coalition_whole()])[0]
    (plan, later) = grouping.plans(reports)
    # The monitoring is a detail of the troops, the backstop shares a guarantor with them.
    assert [r.id for r in plan] == [grouping.report_id(parts, i) for i in range(3)]
    assert [r.id for r in later] == [reports[-1].id]
    shuffled = reports[::-1]
    assert [[r.id for r in p] for p in grouping.plans(shuffled)] == [
        [r.id for r in plan],
        [r.id for r in later],
    ]
    whole = grouping.whole(plan)
    assert whole.guarantors == {"GBR", "FRA", "USA"}
    assert (whole.proposer, whole.beneficiary, whole.kinds) == (
        "GBR",
        "UKR",
        {"peacekeeping_force"},
    )


def _titles(text: str) -> set[frozenset[str]]:
    return {t.words for t in grouping.titles_in(text)}


def test_the_titles_of_instruments_are_read_from_quotation_marks_capitals_and_numbers() -> None:
    # A quoted name holding an instrument noun, or following one.
    assert _titles("подготовила группа под названием «Киевский договор по безопасности»:") == {
        frozenset({"киевский", "договор", "безопасности"})
    }
    assert _titles("участники формата «5+2» подпишут") == {frozenset({"5+2"})}
    # A run of capitals holding an instrument noun, with its links.
    assert _titles("The Kyiv Security Compact was presented in Kyiv.") == {
        frozenset({"kyiv", "security", "compact"})
    }
    assert _titles("the West's Coalition of the Willing met") == {
        frozenset({"west", "coalition", "willing"})
    }
    # A capitalised instrument noun inside a sentence, as Russian writes a title.
    assert _titles("На переговорах обсудили Договор о гарантиях безопасности.") == {
        frozenset({"договор", "гарантиях", "безопасности"})
    }
    # A numbered plan, in either language.
    assert _titles("the 20-point plan agreed in Florida") == {frozenset({"20-point", "plan"})}
    assert _titles("план из 20 пунктов") == {frozenset({"20-point", "plan"})}
    # No title: a common noun, an instrument noun alone, a description in quotation marks,
    # a capitalised run without an instrument noun.
    for text in (
        "a plan to send troops after a peace deal",
        "The Coalition met in Paris, the Coalition said.",
        'he called it "the main framework for ending the war"',
        "President Volodymyr Zelensky said",
        "the North Atlantic Treaty Organization",
    ):
        assert _titles(text) == set(), text


def test_titles_match_within_one_script_and_one_names_another_only_where_none_match() -> None:
    (coalition,) = grouping.titles_in("the Coalition of the Willing")
    (led,) = grouping.titles_in("the France-led Coalition of the Willing")
    (compact,) = grouping.titles_in("the Kyiv Security Compact")
    (treaty,) = grouping.titles_in("обсудили Договор о гарантиях безопасности")
    (kyiv,) = grouping.titles_in("«Киевский договор по безопасности»")
    assert coalition.matches(led) and led.matches(coalition)
    assert grouping.same_title(frozenset({coalition}), frozenset({led}))
    assert grouping.other_titles(frozenset({coalition}), frozenset({compact}))
    assert grouping.other_titles(frozenset({treaty}), frozenset({kyiv}))
    # A title translated is neither the same nor another: scripts are not compared.
    assert not grouping.same_title(frozenset({compact}), frozenset({kyiv}))
    assert not grouping.other_titles(frozenset({compact}), frozenset({treaty}))
    # One title in common is enough, whatever else either names; no title says nothing.
    assert not grouping.other_titles(frozenset({compact, coalition}), frozenset({led}))
    assert not grouping.other_titles(frozenset(), frozenset({compact}))


def _named(name: str, day: str, title: str) -> ExtractionRecord:
    """A hand-built record of Ukraine's proposal of guarantees by the US, Britain and Turkey,
    naming its instrument as ``title`` (which may name none)."""
    text = f"Ukraine proposed {title} with guarantees from the US, Britain and Turkey."
    return record(
        name,
        text,
        day,
        {
            "quote": f"Ukraine proposed {title} with guarantees",
            "proposer": "UKR",
            "beneficiary": "UKR",
            "type": "neutrality_with_guarantees",
            "guarantors": [
                ("USA", "the US", "unknown"),
                ("GBR", "Britain", "unknown"),
                ("TUR", "Turkey", "unknown"),
            ],
        },
    )


def test_reports_naming_other_instruments_by_title_are_two_events_though_all_else_agrees() -> None:
    plain = _named("plain.txt", "2022-03-29", "a treaty")
    treaty = _named("treaty.txt", "2022-03-30", "the Treaty on Security Guarantees")
    compact = _named("compact.txt", "2022-04-01", "the Kyiv Security Compact")
    # Without titles the three are one event.
    untitled = [plain, _named("b.txt", "2022-03-30", "a deal"), _named("c.txt", "2022-04-01", "it")]
    assert len(grouping.events(untitled)) == 1
    # The compact matches the untitled report as well as the treaty does, but the event holds
    # a report naming another instrument.
    assert _members(grouping.events([plain, treaty, compact])) == [
        ["plain.txt", "treaty.txt"],
        ["compact.txt"],
    ]
    # In any order, with the same ids.
    assert grouping.events([compact, treaty, plain]) == grouping.events([plain, treaty, compact])
    # The same title, or one in another script, keeps them one.
    again = _named("again.txt", "2022-04-01", "the Treaty on Security Guarantees again")
    russian = _named("ru.txt", "2022-04-01", "«Киевский договор по безопасности»")
    assert len(grouping.events([plain, treaty, again])) == 1
    assert len(grouping.events([plain, treaty, russian])) == 1
    # Between two reports: other titles are no score at all, the same title adds its weight.
    a, b = grouping.reports_of([treaty, compact])[0]
    assert grouping.similarity(a, b) == float("-inf")
    c, d = grouping.reports_of([treaty, again])[0]
    untitled_c, untitled_d = replace(c, titles=frozenset()), replace(d, titles=frozenset())
    assert grouping.similarity(c, d) == pytest.approx(
        grouping.similarity(untitled_c, untitled_d) + grouping.TITLE_BONUS
    )


def test_grouping_compares_a_bounded_number_of_reports_per_report(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Reports that all share one beneficiary: the comparisons grow with the reports, not
    with their square (each report meets at most CANDIDATES events of MEMBERS reports)."""
    calls = 0
    similarity = grouping.similarity

    def counting(a: grouping.Report, b: grouping.Report) -> float:
        nonlocal calls
        calls += 1
        return similarity(a, b)

    monkeypatch.setattr(grouping, "similarity", counting)

    def synthetic(n: int) -> list[ExtractionRecord]:
        rng = random.Random(n)
        codes = ["USA", "GBR", "FRA", "DEU", "POL", "TUR", "ITA", "CAN"]
        out = []
        for i in range(n):
            text = f"Report {i}: guarantees for Ukraine from " + ", ".join(codes) + "."
            chosen = rng.sample(codes, 2)
            out.append(
                record(
                    f"{i}.txt",
                    text,
                    f"20{20 + i % 6}-{1 + i % 12:02d}-01",
                    {
                        "quote": f"Report {i}",
                        "beneficiary": "UKR",
                        "type": rng.choice(["military_assistance", "collective_defense"]),
                        "guarantors": [(c, c, "unknown") for c in chosen],
                    },
                )
            )
        return out

    counts = []
    for n in (150, 300):
        calls = 0
        grouping.events(synthetic(n))
        counts.append(calls)
        assert calls <= n * grouping.CANDIDATES * grouping.MEMBERS
    assert counts[1] < 2.5 * counts[0]


def test_the_python_interface_takes_records_or_their_json() -> None:
    records = istanbul_records()
    assert extractor.events([r.model_dump(mode="json") for r in records]) == grouping.events(
        records
    )


# ---------------------------------------------------------------------------------------------
# Scoring
# ---------------------------------------------------------------------------------------------


def test_pairwise_and_bcubed_figures_as_computed_by_hand() -> None:
    records = istanbul_records()
    gold = EventGold(
        {"istanbul": "", "qatar": ""},
        {
            "wsj.txt": (Mention("istanbul"),),
            "rt.txt": (Mention("istanbul"),),
            "nokta.txt": (Mention("qatar"),),  # as if the annotator split them
            "economist.txt": (Mention("qatar"),),
        },
    )
    score = score_events(records, gold)
    # Predicted {wsj, rt, nokta} {economist}; gold {wsj, rt} {nokta, economist}.
    assert score.items == 4
    assert score.pairwise.precision == pytest.approx(1 / 3)  # of wsj-rt, wsj-nokta, rt-nokta
    assert score.pairwise.recall == pytest.approx(1 / 2)  # wsj-rt found, nokta-economist not
    assert score.bcubed.precision == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert score.bcubed.recall == pytest.approx((1 + 1 + 1 / 2 + 1 / 2) / 4)


def test_a_proposal_is_aligned_to_the_gold_event_of_its_article_its_words_fit() -> None:
    text = "Options: years of military assistance; or Article 5 extended to Ukraine."
    two = record(
        "two.txt",
        text,
        "2025-01-15",
        {"quote": "Article 5 extended to Ukraine", "type": "collective_defense"},
        {"quote": "years of military assistance", "type": "military_assistance"},
    )
    gold = EventGold(
        {"aid": "", "art5": ""},
        {
            "two.txt": (
                Mention("aid", ("military_assistance",), ("assistance",)),
                Mention("art5", ("collective_defense",), ("article 5",)),
            )
        },
    )
    score = score_events([two], gold)
    assert sorted(score.clusters) == [[("two.txt", "aid")], [("two.txt", "art5")]]
    assert score.bcubed.f1 == 1.0


def test_the_development_annotation_covers_all_37_articles() -> None:
    gold = load_event_gold(GOLD)
    names = {p.name for p in (ROOT / "tests" / "gold").glob("*.json")}
    names |= {p.name for p in (ROOT / "tests" / "gold" / "corpus").glob("*.json")}
    names = {n.replace(".json", ".txt") for n in names}
    names |= {f"h2-{n:02d}.txt" for n in range(1, 21)}
    assert set(gold.articles) == names and len(names) == 37
    istanbul = [n for n, ms in gold.articles.items() if any(m.event == "istanbul-2022" for m in ms)]
    assert len(istanbul) == 8


def test_a_malformed_events_gold_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    bad = tmp_path / "events.json"
    bad.write_text(json.dumps({"events": {"a": ""}, "articles": {"x.txt": [{"event": "b"}]}}))
    result = CliRunner().invoke(cli, ["eval", "--events", str(bad), str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "not an event listed under 'events'" in result.output
    assert "Traceback" not in result.output


# ---------------------------------------------------------------------------------------------
# Command line, database, export
# ---------------------------------------------------------------------------------------------


def _jsonl(path: Path, records: list[ExtractionRecord]) -> Path:
    path.write_text("".join(r.model_dump_json() + "\n" for r in records), encoding="utf-8")
    return path


def test_the_command_writes_one_event_a_line_and_says_what_it_grouped(tmp_path: Path) -> None:
    records = _jsonl(tmp_path / "r.jsonl", istanbul_records())
    out, page = tmp_path / "events.jsonl", tmp_path / "events.html"
    result = CliRunner().invoke(cli, ["events", str(records), "-o", str(out), "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        f"4 proposals of 4 articles -> 2 events (1 reported by more than one article) -> {out}\n"
        f"events page -> {page}\n"
    )
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines == grouping.events(istanbul_records())
    assert page.read_text(encoding="utf-8").count('<template id="ev') == 2


def test_events_load_into_the_database_idempotently_with_the_monthly_view(
    tmp_path: Path,
    db_url: str,  # noqa: F811
) -> None:
    records = _jsonl(tmp_path / "r.jsonl", istanbul_records())
    url = db_url
    args = ["events", str(records), "-o", str(tmp_path / "e.jsonl"), "--db", url]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0, first.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0, again.output
    assert again.output.endswith(
        "events                      2        2\nevent_proposals             4        4\n"
    )
    assert "0 new extractions, 4 already there" in again.output
    rows = sink.query(url, "SELECT id, report_count FROM events ORDER BY report_count")
    assert [r["report_count"] for r in rows] == [1, 3]
    assert sink.query(url, "SELECT COUNT(*) AS n FROM event_proposals") == [{"n": 4}]
    month = sink.query(
        url,
        "SELECT month, code, position, reports FROM event_guarantors_by_month "
        "WHERE code = 'GBR' ORDER BY month, position",
    )
    assert month == [
        {"month": "2022-03", "code": "GBR", "position": "declined", "reports": 1},
        {"month": "2022-03", "code": "GBR", "position": "willing", "reports": 1},
        {"month": "2022-04", "code": "GBR", "position": "willing", "reports": 1},
    ]
    # A grouping of other records replaces the events; the records stay.
    alone = istanbul_records()[:1]
    sink.load_events(alone, grouping.grouped(alone), url)
    assert sink.query(url, "SELECT report_count FROM events") == [{"report_count": 1}]
    assert sink.query(url, "SELECT COUNT(*) AS n FROM proposals") == [{"n": 4}]


def test_the_events_migration_goes_down_and_up_again(db_url: str) -> None:  # noqa: F811
    from alembic import command

    engine = sink.connect(db_url)
    with sink.for_writing(engine).begin() as connection:
        sink.upgrade(connection)
        assert sink.current_revision(connection) == "0006"
        command.downgrade(sink._alembic(connection), "0004")
        names = set(engine.dialect.get_table_names(connection))
        assert "events" not in names and "event_proposals" not in names
        sink.upgrade(connection)
        assert {"events", "event_proposals"} <= set(engine.dialect.get_table_names(connection))
    engine.dispose()


def test_export_writes_the_events_tables(tmp_path: Path) -> None:
    export.write(istanbul_records(), tmp_path, "parquet")
    events = pq.read_table(tmp_path / "events.parquet").to_pylist()
    links = pq.read_table(tmp_path / "event_proposals.parquet").to_pylist()
    assert sorted(e["report_count"] for e in events) == [1, 3]
    assert len(links) == 4 and {link["event_id"] for link in links} == {e["id"] for e in events}
    claims = json.loads(next(e for e in events if e["report_count"] == 3)["claims"])
    assert claims["disagreements"][0]["code"] == "GBR"


def test_eval_prints_the_grouping_figures_per_file(tmp_path: Path) -> None:
    records = _jsonl(tmp_path / "hand.jsonl", istanbul_records())
    gold = tmp_path / "events.json"
    gold.write_text(
        json.dumps(
            {
                "events": {"istanbul": "", "qatar": ""},
                "articles": {
                    "wsj.txt": [{"event": "istanbul"}],
                    "rt.txt": [{"event": "istanbul"}],
                    "nokta.txt": [{"event": "istanbul"}],
                    "economist.txt": [{"event": "qatar"}],
                },
            }
        )
    )
    result = CliRunner().invoke(cli, ["eval", "--events", str(gold), str(records)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "events          proposals  gold  found  pair P  pair R  pair F1  B3 P  B3 R  B3 F1\n"
        "hand                    4     2      2    1.00    1.00     1.00  1.00  1.00   1.00\n"
    )
    as_json = CliRunner().invoke(cli, ["eval", "--events", str(gold), str(records), "--json"])
    assert json.loads(as_json.output)["hand"]["bcubed"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
    }


def test_the_report_writes_its_events_page_and_each_links_the_other(tmp_path: Path) -> None:
    records = _jsonl(tmp_path / "r.jsonl", istanbul_records())
    (tmp_path / "pages").mkdir()
    report, page = tmp_path / "report.html", tmp_path / "pages" / "events.html"
    result = CliRunner().invoke(
        cli, ["report", str(records), "-o", str(report), "--events", str(page)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"4 articles -> {report}\n2 events -> {page}\n"
    assert '<a class="events" href="pages/events.html">' in report.read_text(encoding="utf-8")
    assert '<a class="report" href="../report.html">' in page.read_text(encoding="utf-8")


def test_the_events_page_escapes_what_articles_and_models_wrote() -> None:
    text = "<script>alert(1)</script> Ukraine asked <b>Ruritania</b> for a guarantee."
    hostile = record(
        "x.txt",
        text,
        None,
        {
            "quote": "Ukraine asked <b>Ruritania</b> for a guarantee",
            "summary": "<img src=x onerror=alert(1)>",
            "beneficiary": "UKR",
            "guarantors": [(None, "<b>Ruritania</b>", "willing")],
        },
    )
    found = grouping.grouped([hostile])
    ((event, _),) = found
    assert event["guarantors"][0]["key"] == "name:<b>ruritania</b>"
    page = eventpage.render(found)
    assert "<script>alert" not in page and "<img src=x" not in page and "<b>Ruritania" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
