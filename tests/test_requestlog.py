"""The request log: one JSON line per HTTP request, with what a user needs to explain a run.

A loopback server of the tests' own answers with hand-built completions.
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from handbuilt import LoopbackServer, Script, draft_json, ok, status

import extractor
from extractor.cli import cli
from extractor.model import requestlog

ARTICLE = "Ukraine asked the US to guarantee its security within 72 hours."
GOOD = draft_json(
    quote="Ukraine asked the US to guarantee its security",
    summary="Ukraine asks the US.",
    guarantors=[{"name": "the US", "quote": "the US"}],
)
UNFOUND = draft_json(
    quote="Ukraine asked Atlantis to guarantee its security",
    summary="Ukraine asks Atlantis.",
)


def test_extract_log_json_writes_one_line_per_request_with_its_reason(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    out, log = tmp_path / "out.jsonl", tmp_path / "requests.jsonl"
    script = Script([status(500), ok(UNFOUND), ok(GOOD)])
    with LoopbackServer(script) as server:
        result = CliRunner().invoke(
            cli,
            [
                *("extract", str(article), "-o", str(out), "--base-url", server.base_url),
                *("-q", "--strategy", "single", "--log-json", str(log)),
            ],
            catch_exceptions=False,
        )
    assert result.exit_code == 0, result.output
    record = json.loads(out.read_text())
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(e["attempt"], e["kind"], e["status"]) for e in lines] == [
        (1, "first", "500"),
        (2, "retry", "200"),
        (3, "reask", "200"),
    ]
    assert {e["article"] for e in lines} == {record["article"]["id"]}
    assert {e["step"] for e in lines} == {"proposals#0"}
    assert lines[1]["reason"] == "500"
    assert "not in the article" in lines[2]["reason"]
    assert [e["prompt_tokens"] for e in lines] == [0, 100, 100]
    assert all(e["latency_ms"] > 0 and e["time"].endswith("+00:00") for e in lines)


def test_the_api_logs_requests_through_the_same_logger(tmp_path: Path) -> None:
    log = tmp_path / "requests.jsonl"
    with LoopbackServer(Script([ok(GOOD)])) as server, requestlog.to_file(log):
        record = extractor.extract(ARTICLE, base_url=server.base_url, strategy="single")
    [line] = [json.loads(line) for line in log.read_text().splitlines()]
    assert line["article"] == record.article.id
    assert (line["kind"], line["status"], line["completion_tokens"]) == ("first", "200", 20)
    assert not requestlog.listening()  # the handler is gone after the block


def test_an_unwritable_log_is_a_one_line_usage_error(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    result = CliRunner().invoke(
        cli,
        [
            *("extract", str(article), "-o", str(tmp_path / "o.jsonl")),
            *("--base-url", "http://127.0.0.1:9/v1", "--log-json", str(tmp_path / "no" / "x")),
        ],
    )
    assert result.exit_code == 2
    assert "cannot write the request log" in result.output
    assert "Traceback" not in result.output
