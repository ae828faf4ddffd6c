"""The rules strategy: values found by code alone, grounded and normalised; no model, no server."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from click.testing import CliRunner
from handbuilt import Script, engine, ok

from extractor.cli import cli
from extractor.evaluate import iter_evidence, span_matches
from extractor.rules import (
    Chunk,
    beneficiary_mentions,
    guarantee_mentions,
    is_guarantee_sentence,
    sentences,
)
from extractor.schemas import ExtractionRecord
from extractor.strategies import named

ROOT = Path(__file__).resolve().parent.parent
TEXT = (
    "Talks in Istanbul.\n\n"
    "Ukraine proposed that the US, UK and Turkey guarantee its security. "
    "Guarantors must respond within 72 hours.\n\n"
    "Crimea and Donbas would be excluded from the guarantees.\n\n"
    "Weather was fine."
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_rules_plans_no_request_and_finds_every_field() -> None:
    rules = named("rules")
    assert rules.plan(TEXT, rules.prompt(None)) == []
    [proposal], dropped = rules.run(None, TEXT, rules.prompt(None))
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    assert [g.actor.code for g in proposal.guarantors] == ["USA", "GBR", "TUR"]
    assert proposal.response_time is not None and proposal.response_time.hours == 72
    assert [t.name for t in proposal.excluded_territories] == ["Crimea", "Donbas"]
    assert [d.reason for d in dropped] == ["the proposer itself"]
    for guarantor in proposal.guarantors:
        [evidence] = guarantor.evidence
        assert TEXT[evidence.start : evidence.end] == guarantor.actor.name


def test_sentences_keep_offsets_and_abbreviations() -> None:
    text = (
        "If Ukraine fires at St. Petersburg the guarantee is void. Mr. Smith said so.\n"
        "- ratified by the guarantor states.Consultations began."
    )
    found = sentences(Chunk(10, text))
    assert [s.text for s in found] == [
        "If Ukraine fires at St. Petersburg the guarantee is void.",
        "Mr. Smith said so.",
        "- ratified by the guarantor states.",
        "Consultations began.",
    ]
    for sentence in found:
        assert text[sentence.start - 10 :].startswith(sentence.text)


def test_the_protected_state_and_names_of_places_are_no_guarantors() -> None:
    sentence = (
        "France and Turkey offered security guarantees for Ukraine, unlike the Budapest Memorandum."
    )
    assert beneficiary_mentions(sentence) == ["Ukraine"]
    assert guarantee_mentions(sentence) == ["France", "Turkey"]
    assert beneficiary_mentions("Germany would act as guarantor of Ukraine's security.") == [
        "Ukraine"
    ]


def test_guarantees_in_another_sense_or_denied_are_not_guarantee_sentences() -> None:
    assert is_guarantee_sentence("The US would guarantee Ukraine's security.")
    assert is_guarantee_sentence("Russia wants guarantees that Ukraine will not join NATO.")
    assert not is_guarantee_sentence("Fighters who lay down arms are guaranteed life.")
    assert not is_guarantee_sentence("The plan did not mention security guarantees for Ukraine.")


def test_extract_with_rules_starts_no_server_and_writes_grounded_records(tmp_path: Path) -> None:
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    # No --base-url: any model strategy would start the embedded server here.
    code, _, err = invoke(
        "extract", str(ROOT / "seeds"), "--strategy", "rules", "-o", str(out),
        "--summary", str(summary),
    )  # fmt: skip
    assert code == 0, err
    assert "starting the embedded model server" not in err
    assert "0 tokens spent (prompt 0, completion 0) in 0 requests" in err
    per_article = json.loads(summary.read_text())["per_article"]
    assert [a["requests"] for a in per_article] == [0] * len(seeds)
    # Well under a second an article: the median, so that the first article's warm-up (regular
    # expressions compiled, caches empty) on a busy machine does not decide it.
    assert statistics.median(a["seconds"] for a in per_article) < 1.0
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(seeds)
    spans = 0
    for line in lines:
        record = ExtractionRecord.model_validate_json(line)
        assert record.error is None
        assert (record.provenance.strategy, record.provenance.model) == ("rules", "none")
        assert record.provenance.usage.requests == 0
        data = json.loads(line)
        for evidence in iter_evidence(data["proposals"]):
            spans += 1
            assert span_matches(evidence, record.article.text), evidence
    assert spans > 20


def test_a_prompt_is_refused_where_the_strategy_cannot_use_it(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("The US would guarantee Ukraine's security.\n")
    code, _, err = invoke("extract", str(article), "--strategy", "rules", "--prompt", "fields-v1")
    assert code == 2
    assert err == (
        "error: strategy rules asks no model and uses no prompt, so --prompt (EXTRACTOR_PROMPT) "
        "'fields-v1' would be ignored; leave it out or choose another strategy\n"
    )
    code, _, err = invoke(
        "extract", str(article), "--strategy", "chunked", "--prompt", "extract-v1",
        "--base-url", "http://127.0.0.1:9/v1",
    )  # fmt: skip
    assert code == 2
    assert err.startswith("error: prompt 'extract-v1' has no guarantors.txt, proposer.txt")


def test_auto_is_guided_for_the_embedded_model_and_single_for_others() -> None:
    from extractor import config, pipeline
    from extractor.strategies import for_settings

    embedded = config.resolve(env={})
    assert embedded.strategy == "auto"
    assert for_settings(embedded).name == "guided"
    other = config.resolve(base_url="http://127.0.0.1:9/v1", env={})
    assert for_settings(other).name == "single"
    # Provenance, resumption and the cache see the strategy chosen, never "auto".
    assert pipeline.method_of(embedded).strategy == "guided"
    assert pipeline.method_of(other).strategy == "single"


def test_guided_asks_the_model_only_to_choose_and_takes_guarantors_from_the_rules() -> None:
    guided = named("guided")
    asks = guided.plan(TEXT, guided.prompt(None))
    # One choice per field that has candidates: proposer, response time, territories.
    assert [a.field for a in asks] == ["proposer", "response_time", "excluded_territories"]
    schema = asks[0].answer.model_json_schema()["properties"]["value"]["anyOf"][0]
    assert schema["enum"] == ["Ukraine", "the US", "UK", "Turkey"]
    # The model's choices, hand-built (a proposer, no deadline, one territory):
    script = Script(
        [
            ok(json.dumps({"value": "Ukraine"})),
            ok(json.dumps({"value": None})),
            ok(json.dumps({"values": ["Crimea"]})),
        ]
    )
    [proposal], _ = guided.run(engine(script, mode="llamacpp"), TEXT, guided.prompt(None))
    assert len(script.requests) == 3
    assert proposal.proposer is not None and proposal.proposer.code == "UKR"
    assert [g.actor.code for g in proposal.guarantors] == ["USA", "GBR", "TUR"]
    assert proposal.response_time is None
    assert [t.name for t in proposal.excluded_territories] == ["Crimea"]
    [evidence] = proposal.excluded_territories[0].evidence
    assert TEXT[evidence.start : evidence.end] == "Crimea"
