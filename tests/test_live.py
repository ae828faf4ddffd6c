"""The embedded model for real, through the installed CLI, on a short text (marked live)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.evaluate import iter_evidence, span_matches
from extractor.schemas import ExtractionRecord

pytestmark = pytest.mark.live

TEXT = (
    "Ukraine proposed on Tuesday that the US, UK and France guarantee its security. "
    "Under the plan the guarantors would have to respond within 72 hours, "
    "and Crimea would be excluded from the guarantee."
)


def test_cli_extracts_a_valid_fully_grounded_record_on_the_embedded_model(tmp_path: Path) -> None:
    article = tmp_path / "short.txt"
    article.write_text(TEXT, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    cli = Path(sys.executable).parent / "extractor"
    done = subprocess.run(
        [str(cli), "extract", str(article), "-o", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "1 articles, 1 ok, 0 failed" in done.stderr

    [line] = out.read_text(encoding="utf-8").splitlines()
    record = ExtractionRecord.model_validate_json(line)
    assert record.error is None
    assert record.article.text == TEXT
    assert record.provenance.mode == "llamacpp"
    assert record.provenance.model == "smollm2-135m-instruct"
    assert record.provenance.usage.requests >= 1
    assert record.provenance.usage.total_tokens > 0
    for evidence in iter_evidence(json.loads(line)):
        assert span_matches(evidence, TEXT), evidence
