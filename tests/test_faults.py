"""Faults over real HTTP: a loopback server of our own answers the CLI with each failure in turn.

Every case asserts the exact number of requests the failure cost and the record that came out.
The answers are hand-built; the retry policy under test is the default one (one re-ask, two
transport retries).
"""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from handbuilt import LoopbackServer, Script, draft_json, ok, reset, slow, status

from extractor.cli import cli

ARTICLE = "Ukraine asked the US to guarantee its security within 72 hours."
GOOD = draft_json(
    quote="Ukraine asked the US to guarantee its security",
    summary="Ukraine asks the US.",
    guarantors=[{"name": "the US", "quote": "the US"}],
)


def extract(tmp_path: Path, script: Script, *extra: str) -> tuple[int, dict[str, Any]]:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    out = tmp_path / "out.jsonl"
    with LoopbackServer(script) as server:
        result = CliRunner().invoke(
            cli,
            [
                *("extract", str(article), "-o", str(out), "--base-url", server.base_url),
                *("-q", "--strategy", "single", *extra),
            ],
            catch_exceptions=False,
        )
    return result.exit_code, json.loads(out.read_text())


CASES = [
    ("429 with Retry-After", [status(429, {"retry-after": "1"}), ok(GOOD)], [], 2, 0, None),
    ("500 then answer", [status(500), ok(GOOD)], [], 2, 0, None),
    ("500 every time", [status(500)] * 3, [], 3, 1, "BackendError"),
    ("slow past the timeout", [slow(2.5, ok(GOOD)), ok(GOOD)], ["--timeout", "1"], 2, 0, None),
    ("connection reset", [reset, ok(GOOD)], [], 2, 0, None),
    ("cut off at max_tokens", [ok(GOOD[:-3], finish_reason="length")], [], 1, 0, None),
    ("invalid JSON twice", [ok("{not json"), ok("still {not")], [], 2, 1, "OutputError"),
]


@pytest.mark.parametrize(
    ("name", "answers", "extra", "requests", "exit_code", "error"),
    CASES,
    ids=[case[0] for case in CASES],
)
def test_fault(
    tmp_path: Path,
    name: str,
    answers: list[Any],
    extra: list[str],
    requests: int,
    exit_code: int,
    error: str | None,
) -> None:
    script = Script(list(answers))
    code, record = extract(tmp_path, script, *extra)
    assert len(script.requests) == requests, name
    assert record["provenance"]["usage"]["requests"] == requests
    assert code == exit_code
    assert (record["error"] or {}).get("type") == error
    if error is None:
        assert [g["actor"]["code"] for g in record["proposals"][0]["guarantors"]] == ["USA"]
    if name == "cut off at max_tokens":
        assert record["dropped"][0]["reason"] == "the answer was cut off at max_tokens=1024"


def test_retry_after_is_waited_before_the_retry(tmp_path: Path) -> None:
    script = Script([status(429, {"retry-after": "2"}), ok(GOOD)])
    started = time.monotonic()
    code, record = extract(tmp_path, script)
    # A lower bound only: the retry may not come sooner than the server asked.
    assert time.monotonic() - started >= 2.0
    assert len(script.requests) == 2
    assert code == 0
    assert record["provenance"]["usage"]["requests"] == 2


def test_concurrent_articles_each_get_their_faults_retried(tmp_path: Path) -> None:
    for i in range(4):
        (tmp_path / f"{i}.txt").write_text(f"{ARTICLE} Report {i}.")
    seen: set[bytes] = set()
    lock = threading.Lock()

    def answer(request: Any) -> Any:
        """The first request about each article fails; its retry is answered."""
        with lock:
            first = request.content not in seen
            seen.add(request.content)
        return status(500) if first else ok(GOOD)

    script = Script([answer] * 8)
    out = tmp_path / "out.jsonl"
    with LoopbackServer(script) as server:
        result = CliRunner().invoke(
            cli,
            [
                *("extract", *sorted(str(p) for p in tmp_path.glob("*.txt")), "-o", str(out)),
                *("--base-url", server.base_url, "-q", "--strategy", "single", "-j", "4"),
                "--no-cache",
            ],
        )
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(script.requests) == 8
    assert [r["provenance"]["usage"]["requests"] for r in records] == [2, 2, 2, 2]
    assert all(r["error"] is None for r in records)
