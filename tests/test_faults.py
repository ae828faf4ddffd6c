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

import httpx2
import pytest
from click.testing import CliRunner
from handbuilt import (
    LoopbackServer,
    Script,
    draft_json,
    handbuilt_completion,
    ok,
    reset,
    slow,
    status,
)

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
    # Asked again with twice the budget, which the whole answer fits.
    ("cut off at max_tokens", [ok(GOOD[:-3], finish_reason="length"), ok(GOOD)], [], 2, 0, None),
    (
        "cut off until the retry budget is spent",
        [ok(GOOD[:-3], finish_reason="length")] * 2,
        ["--retry-budget", "1"],
        2,
        0,
        None,
    ),
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
        assert record["provenance"]["usage"]["cut_off"] == 1
        assert record["dropped"] == []
    if name == "cut off until the retry budget is spent":
        assert record["provenance"]["usage"]["cut_off"] == 2
        assert record["dropped"][0]["reason"] == "the answer was cut off at max_tokens=8192"


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


class TrickleServer:
    """A loopback server that answers every request with a hand-built completion one byte at a
    time, ``interval`` seconds apart: the body only, or the status line and headers too."""

    def __init__(self, interval: float, *, headers_too: bool = False) -> None:
        import socketserver

        body = json.dumps(handbuilt_completion(GOOD)).encode()
        head = (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            + f"content-length: {len(body)}\r\n\r\n".encode()
        )
        self.requests = 0
        self._stop = threading.Event()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                outer.requests += 1
                length = 0
                while (line := self.rfile.readline()) not in (b"\r\n", b""):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                self.rfile.read(length)
                slow = head + body if headers_too else body
                try:
                    if not headers_too:
                        self.wfile.write(head)
                    for byte in slow:
                        if outer._stop.wait(interval):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                except OSError:
                    return  # the client gave up

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> TrickleServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.parametrize(
    ("interval", "headers_too"),
    [(0.05, False), (1.5, False), (0.05, True)],
    ids=["body every 0.05s", "body every 1.5s", "headers every 0.05s"],
)
def test_timeout_bounds_the_whole_request_against_a_trickling_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interval: float, headers_too: bool
) -> None:
    # The answer is about 900 bytes: trickled whole, it would take 45 s (or 22 min at 1.5 s).
    monkeypatch.setenv("EXTRACTOR_TRANSPORT_RETRIES", "0")
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    out = tmp_path / "out.jsonl"
    with TrickleServer(interval, headers_too=headers_too) as server:
        started = time.monotonic()
        result = CliRunner().invoke(
            cli,
            [
                *("extract", str(article), "-o", str(out), "--base-url", server.base_url),
                *("-q", "--strategy", "single", "--timeout", "2"),
            ],
        )
        elapsed = time.monotonic() - started
    record = json.loads(out.read_text())
    assert server.requests == 1
    assert 2.0 <= elapsed < 6.0, elapsed  # the CLI's own start included
    assert result.exit_code == 1
    assert record["error"]["type"] == "BackendError"
    assert "did not answer within 2s" in record["error"]["message"]


def test_a_dead_server_stops_the_run_and_the_same_command_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EXTRACTOR_TRANSPORT_RETRIES", "0")
    for i in range(6):
        (tmp_path / f"{i}.txt").write_text(f"{ARTICLE} Report {i}.")
    out = tmp_path / "out.jsonl"

    def dies(request: Any) -> Any:
        """The server goes away in the middle of the second article's request."""
        first.die()
        return reset(request)

    first = LoopbackServer(Script([ok(GOOD), dies]))
    command = [
        *("extract", *sorted(str(p) for p in tmp_path.glob("*.txt")), "-o", str(out)),
        *("--base-url", first.base_url, "--strategy", "single", "--no-cache"),
        *("--max-connection-failures", "3"),
    ]
    with first:
        stopped = CliRunner().invoke(cli, command)
    assert stopped.exit_code == 1, stopped.output
    # Articles 1 and 2 failed (one connection failure each), article 3's request was the
    # third in a row: the run stopped there, and articles 3 to 5 were never asked.
    assert len(first.script.requests) == 2
    message = [line for line in stopped.stderr.splitlines() if line.startswith("stopped:")]
    assert message == [
        f"stopped: 3 requests in a row could not reach {first.base_url}; start the server (or "
        "fix --base-url) and run the same command again to finish (--max-connection-failures "
        f"sets the limit). 3 articles have no record yet; {out}.partial keeps the finished "
        "records."
    ]
    assert not out.exists()
    kept = [json.loads(line) for line in Path(f"{out}.partial").read_text().splitlines()]
    assert [(Path(r["article"]["source"]).name, (r["error"] or {}).get("type")) for r in kept] == [
        ("0.txt", None),
        ("1.txt", "BackendError"),
        ("2.txt", "BackendError"),
    ]

    port = int(first.base_url.rsplit(":", 1)[1].split("/")[0])
    again = LoopbackServer(Script([ok(GOOD)] * 5), port=port)
    with again:
        resumed = CliRunner().invoke(cli, command)
    assert resumed.exit_code == 0, resumed.output
    assert len(again.script.requests) == 5  # every article but the one already done
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(r["article"]["source"]).name for r in records] == [f"{i}.txt" for i in range(6)]
    assert all(r["error"] is None for r in records)


@pytest.mark.parametrize("tokens", [-100_000, 10**12], ids=["negative", "absurd"])
def test_a_server_reporting_impossible_usage_is_not_trusted(tmp_path: Path, tokens: int) -> None:
    script = Script([ok(GOOD, prompt_tokens=tokens)])
    code, record = extract(tmp_path, script, "--budget", "1000")
    assert len(script.requests) == 1  # not retried: the same server would say the same
    assert code == 1
    assert record["error"]["type"] == "BackendError"
    assert (
        f"reported prompt_tokens={tokens}, which no request can use" in (record["error"]["message"])
    )
    assert record["provenance"]["usage"]["prompt_tokens"] == 0


def test_a_web_page_where_the_api_should_be_is_named(tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>...</body></html>"
    script = Script([httpx2.Response(200, headers={"content-type": "text/html"}, content=page)])
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    with LoopbackServer(script) as server:
        result = CliRunner().invoke(
            cli,
            ["extract", str(article), "--base-url", server.base_url, "--strategy", "single"],
        )
    assert len(script.requests) == 1
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        f"error: {server.base_url} answered HTTP 200 with text/html, not a JSON chat "
        "completion: '<!DOCTYPE html><html><head><title>Sign in</title></head><body>...</body>"
        "</html>'; check --base-url / OPENAI_BASE_URL (an OpenAI-compatible API, usually "
        "ending in /v1)"
    )
