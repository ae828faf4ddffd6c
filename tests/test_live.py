"""The embedded model for real, through the installed CLI, on a short text (marked live)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.eval.evaluate import iter_evidence, span_matches
from extractor.schemas import ExtractionRecord

pytestmark = pytest.mark.live

# No proposing word: the default's rules name no proposer, so the model is asked to choose one.
TEXT = (
    "The US, UK and France would guarantee the security of Ukraine, officials said on Tuesday. "
    "The guarantors would have to respond within 72 hours, "
    "and Crimea would be excluded from the guarantee."
)


def cli_env() -> dict[str, str]:
    """The environment without a configured server: the embedded model it is."""
    return {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}


def extractor(*args: str) -> subprocess.CompletedProcess[str]:
    cli = Path(sys.executable).parent / "extractor"
    return subprocess.run(
        [str(cli), *args], env=cli_env(), capture_output=True, text=True, timeout=600, check=False
    )


def test_cli_extracts_a_valid_fully_grounded_record_on_the_embedded_model(tmp_path: Path) -> None:
    article = tmp_path / "short.txt"
    article.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = extractor("extract", str(article), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "1 article: 1 extracted" in done.stderr

    [line] = out.read_text(encoding="utf-8").splitlines()
    record = ExtractionRecord.model_validate_json(line)
    assert record.error is None
    assert record.article.text == TEXT
    assert record.provenance.mode == "llamacpp"
    assert record.provenance.model == "smollm2-135m-instruct"
    assert record.provenance.strategy == "guided"
    assert record.provenance.usage.requests == 1
    assert record.provenance.usage.total_tokens > 0
    [proposal] = record.proposals
    assert [g.actor.code for g in proposal.guarantors] == ["USA", "GBR", "FRA"]
    assert [r.hours for r in proposal.response_times] == [72]
    for evidence in iter_evidence(json.loads(line)):
        assert span_matches(evidence, TEXT), evidence


def test_a_batch_file_run_on_the_embedded_model_collects_to_the_online_records(
    tmp_path: Path,
) -> None:
    seed = sorted((Path(__file__).resolve().parent.parent / "seeds").glob("*.txt"))[0]
    job = tmp_path / "job"
    prepared = extractor("batch", "prepare", str(seed), "-d", str(job), "--strategy", "chunked")
    assert prepared.returncode == 0, prepared.stderr
    requests = (job / "requests.jsonl").read_text().splitlines()
    assert len(requests) > 1  # chunked asks several questions

    ran = extractor("batch", "run", str(job))
    assert ran.returncode == 0, ran.stderr
    assert len((job / "results.jsonl").read_text().splitlines()) == len(requests)

    collected = extractor("batch", "collect", str(job / "results.jsonl"), "-o", str(tmp_path / "b"))
    assert collected.returncode == 0, collected.stderr
    online = extractor(
        "extract", str(seed), "-o", str(tmp_path / "o"), "--max-reasks", "0", "--no-cache",
        "--strategy", "chunked",
    )  # fmt: skip
    assert online.returncode == 0, online.stderr

    batch = ExtractionRecord.model_validate_json((tmp_path / "b").read_text())
    direct = ExtractionRecord.model_validate_json((tmp_path / "o").read_text())
    assert batch.proposals == direct.proposals
    assert batch.dropped == direct.dropped
    assert batch.provenance.usage == direct.provenance.usage
