"""Each seed extracted end to end through the OpenAI client, replayed from recorded cassettes:
with the default strategy (``auto``, which is ``guided`` on the embedded model; goldens in
tests/golden/) and with ``chunked``, the strategy that asks the model most (tests/golden/chunked/).

Cassettes were recorded from the embedded model over real HTTP; ``make record`` re-records them
and rewrites the goldens from the same run. On the seeds the default's rules name every value
and ask the model nothing (docs/quality.md), so its cassettes hold no request; ``chunked``'s
hold every request its field questions make.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from extractor import config
from extractor.eval.evaluate import span_matches
from extractor.io.articles import parse
from extractor.model.sync import Engine
from extractor.runs import pipeline
from extractor.schemas import ExtractionRecord

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
GOLDEN = Path(__file__).resolve().parent / "golden"
# The default, and the strategy that puts the most requests to the model.
STRATEGIES = ("auto", "chunked")


def golden_dir(strategy: str) -> Path:
    return GOLDEN if strategy == "auto" else GOLDEN / strategy


# Fields that describe the run, not the extraction: left out of goldens.
VOLATILE = {
    ("provenance", "base_url"),
    ("provenance", "extracted_at"),
    ("provenance", "extractor_version"),
}


def fixed_clock() -> datetime:
    return datetime(2026, 1, 1, tzinfo=UTC)


def comparable(record: ExtractionRecord) -> dict[str, Any]:
    data = record.model_dump(mode="json")
    for section, key in VOLATILE:
        data[section].pop(key, None)
    return data


def flatten(value: Any, path: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            out.update(flatten(item, f"{path}.{key}" if path else key))
        return out or {path: {}}
    if isinstance(value, list):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f"{path}[{index}]"))
        return out or {path: []}
    return {path: value}


def differences(golden: Any, actual: Any, limit: int = 30) -> list[str]:
    """Readable field-by-field differences between two records."""
    left, right = flatten(golden), flatten(actual)
    lines = []
    for path in sorted(set(left) | set(right)):
        if path == "article.text":
            if left.get(path) != right.get(path):
                lines.append("article.text: differs")
            continue
        if left.get(path, "<absent>") != right.get(path, "<absent>"):
            before, after = left.get(path, "<absent>"), right.get(path, "<absent>")
            lines.append(f"{path}: golden {before!r} != now {after!r}")
    return lines[:limit] + ([f"... and {len(lines) - limit} more"] if len(lines) > limit else [])


def assert_grounded(record: ExtractionRecord) -> int:
    """Every evidence span holds its quote, as the scorer's grounding row counts it."""
    text = record.article.text
    spans = 0
    for proposal in record.proposals:
        items = [proposal, *proposal.guarantors, *proposal.excluded_territories]
        items += [*proposal.conditions, *proposal.stances, *proposal.response_times]
        for item in items:
            assert item.evidence, f"no evidence for {item!r}"
            for evidence in item.evidence:
                assert span_matches(evidence.model_dump(), text), evidence
                spans += 1
    return spans


@pytest.fixture
def default_cassette_name(request: pytest.FixtureRequest) -> str:
    strategy, seed = request.node.callspec.params["strategy"], request.node.callspec.params["seed"]
    return f"{'seed' if strategy == 'auto' else strategy}-{seed.stem}"


@pytest.mark.vcr
@pytest.mark.parametrize("strategy", STRATEGIES)
@pytest.mark.parametrize("seed", SEEDS, ids=[seed.stem for seed in SEEDS])
def test_seed_matches_its_golden(
    seed: Path, strategy: str, model_url: str, update_goldens: bool
) -> None:
    article = parse(str(seed.relative_to(ROOT)), seed.read_bytes())
    settings = config.resolve(strategy=strategy, env={}).with_base_url(model_url)
    engine = Engine(settings)
    try:
        record = pipeline.extract(article, engine, clock=fixed_clock)
    finally:
        engine.close()

    assert record.error is None, record.error
    assert record.provenance.mode == "llamacpp"
    usage = record.provenance.usage
    assert usage.requests == record.provenance.attempts
    if strategy == "chunked":
        assert usage.requests >= 1
    assert (usage.total_tokens > 0) == (usage.requests > 0)
    assert_grounded(record)

    golden_path = golden_dir(strategy) / f"{seed.stem}.json"
    actual = comparable(record)
    if update_goldens:
        golden_path.parent.mkdir(exist_ok=True)
        golden_path.write_text(
            json.dumps(actual, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return
    golden = json.loads(golden_path.read_text(encoding="utf-8"))
    diff = differences(golden, actual)
    assert not diff, f"{seed.name} differs from {golden_path}:\n  " + "\n  ".join(diff)
