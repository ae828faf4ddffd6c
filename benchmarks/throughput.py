"""Throughput benchmark: how fast a batch runs, and how it scales with --concurrency.

Part 1 runs the default strategy (auto: guided) on the embedded model (SmolLM2, CPU) over the seed
articles and the shared news corpus, one article at a time, cache off, and compares the run's wall
time with the time spent waiting on model requests (the overhead the extractor adds).

Part 2 runs the single-call strategy against a loopback HTTP server that answers every chat
completion after a fixed delay, at concurrency 1, 2, 4 and 8, to show how the runner scales when
the server takes parallel requests.

Prints figures only; it asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/throughput.py [--quick]

Only the project's package (``extractor``) and the standard library are imported.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from extractor import config
from extractor.errors import ExtractorError
from extractor.model import embedded
from extractor.runs import runner
from extractor.runs.method import resolve_method

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "news"
OVERHEAD_TARGET = 1.05
CONCURRENCY = (1, 2, 4, 8)

# --------------------------------------------------------------------------------------------
# Plain aligned tables


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table: the first column left-aligned, the others right-aligned."""
    cells = [[str(h) for h in headers]] + [[_cell(v) for v in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        parts = [
            value.ljust(width) if i == 0 else value.rjust(width)
            for i, (value, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(row) for row in cells[1:])])


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def pairs(items: Sequence[tuple[str, object]]) -> str:
    """``name  value`` lines, the names padded to one width."""
    width = max(len(name) for name, _ in items)
    return "\n".join(f"{name:<{width}}  {_cell(value)}" for name, value in items)


def heading(text: str) -> None:
    print()
    print(text)
    print("=" * len(text))


def load() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "n/a"
    return f"{one:.2f} (1 min), {five:.2f} (5 min)"


# --------------------------------------------------------------------------------------------
# Part 1: the embedded model


def embedded_sources(corpus: Path, quick: bool) -> tuple[list[str], str]:
    """The articles of part 1 and a line saying where they came from."""
    seeds = sorted(str(p) for p in SEEDS.glob("*.txt"))
    if quick:
        return seeds[:2], f"the first 2 seeds of {SEEDS} (--quick)"
    if not corpus.is_dir():
        return seeds, f"{len(seeds)} seeds only: corpus directory {corpus} does not exist"
    news = sorted(str(p) for p in corpus.glob("*.txt"))
    if not news:
        return seeds, f"{len(seeds)} seeds only: corpus directory {corpus} holds no .txt file"
    return seeds + news, f"{len(seeds)} seeds + {len(news)} corpus articles from {corpus}"


def embedded_ready() -> str | None:
    """Why the embedded model cannot run here, or None when it can."""
    if importlib.util.find_spec("llama_cpp") is None:
        return (
            "llama-cpp-python (the `local` extra) is not installed, so the embedded model cannot "
            "run. Install it with `make install` (builds llama-cpp-python with portable CPU "
            "flags and installs the `local` extra), or skip part 1 with --skip-embedded."
        )
    try:
        embedded.find_gguf(None)
    except ExtractorError as exc:
        return f"{exc}. Or skip part 1 with --skip-embedded."
    return None


def part_embedded(corpus: Path, quick: bool, workdir: Path) -> None:
    heading(
        "Part 1: embedded model (SmolLM2-135M on CPU), default strategy, concurrency 1, no cache"
    )
    sources, where = embedded_sources(corpus, quick)
    print(f"articles: {where}")
    started = time.monotonic()
    with embedded.serve() as base_url:
        print(
            f"embedded server ready at {base_url} in {time.monotonic() - started:.1f}s (not timed)"
        )
        settings = config.resolve(
            base_url=base_url,
            mode="llamacpp",
            model=config.EMBEDDED_MODEL,
            strategy=config.DEFAULT_STRATEGY,
            env={},  # no EXTRACTOR_* variable of this shell changes what is measured
        )
        print(f"strategy {settings.strategy}, mode {settings.mode}, model {settings.model}")
        print(f"load average before: {load()}")
        output = runner.Output(str(workdir / "embedded.jsonl"))
        summary = runner.run(
            sources, resolve_method(settings), output, runner.RunOptions(concurrency=1)
        )
        print(f"load average after:  {load()}")

    print()
    rows = []
    for o in summary.outcomes:
        status = o.status
        if o.record is not None and o.record.error is not None:
            status = f"{o.status} ({o.record.error.type})"
        rows.append(
            [
                Path(o.source).name,
                status,
                o.meter.total_tokens,
                o.meter.requests,
                o.meter.seconds,
                o.seconds,
            ]
        )
    print(table(["source", "status", "tokens", "requests", "model s", "wall s"], rows))

    wall = summary.wall_seconds
    model = summary.model_seconds
    done = summary.count("extracted", "failed")
    ratio = f"{wall / model:.3f}" if model > 0 else "n/a (no model time)"
    print()
    print(
        pairs(
            [
                (
                    "articles",
                    f"{len(summary.outcomes)} ({done} extracted, {summary.failed} with an error)",
                ),
                ("requests", summary.to_json()["requests"]),
                ("total tokens", summary.total_tokens),
                ("wall seconds", wall),
                ("articles per minute", done / wall * 60 if wall > 0 else 0.0),
                ("tokens per second", summary.total_tokens / wall if wall > 0 else 0.0),
                ("model-request seconds (summed)", model),
                ("overhead ratio wall / model", f"{ratio}   (target <= {OVERHEAD_TARGET:.2f})"),
            ]
        )
    )


# --------------------------------------------------------------------------------------------
# Part 2: scaling against a fixed-delay loopback server

# Every synthetic article holds this sentence, so the one canned answer grounds in each of them.
SENTENCE = "Kyiv asked Washington to guarantee its security within 72 hours."
ANSWER = json.dumps(
    {
        "proposals": [
            {
                "quote": "Kyiv asked Washington to guarantee its security",
                "summary": "Kyiv asks for a US security guarantee.",
                "proposer": "Kyiv",
                "guarantors": [{"name": "Washington", "quote": "asked Washington"}],
                "response_times": [{"text": "72 hours", "quote": "within 72 hours"}],
            }
        ]
    }
)
PROMPT_TOKENS, COMPLETION_TOKENS = 100, 20


def completion_body() -> bytes:
    """A chat completion whose content is ``ANSWER``, with usage tokens (all made up)."""
    return json.dumps(
        {
            "id": "chatcmpl-benchmark",
            "object": "chat.completion",
            "created": 0,
            "model": "loopback",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": ANSWER},
                    "finish_reason": "stop",
                }
            ],
            "usage": {
                "prompt_tokens": PROMPT_TOKENS,
                "completion_tokens": COMPLETION_TOKENS,
                "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
            },
        }
    ).encode()


class DelayServer(ThreadingHTTPServer):
    """Answers every POST /v1/chat/completions with ``completion_body()`` after ``delay``
    seconds, one thread per connection; counts requests and the most it held at once in
    values shared with the process that started it."""

    daemon_threads = True
    request_queue_size = 1024  # hundreds of clients may connect at once

    def __init__(self, delay: float, requests: Any, peak: Any) -> None:
        super().__init__(("127.0.0.1", 0), _DelayHandler)
        self.delay = delay
        self.body = completion_body()
        self.lock = threading.Lock()
        self.requests = requests
        self.peak = peak
        self.in_flight = 0


def _serve(delay: float, requests: Any, peak: Any, port: Any) -> None:
    server = DelayServer(delay, requests, peak)
    port.send(server.server_address[1])
    server.serve_forever()


class ServerProcess:
    """The delay server in a process of its own, so its work does not compete with the
    extractor's threads for this process's interpreter lock: the scaling measured is the
    extractor's alone."""

    def __init__(self, delay: float) -> None:
        context = multiprocessing.get_context("fork")
        self._requests = context.Value("i", 0)
        self._peak = context.Value("i", 0)
        receive, send = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_serve, args=(delay, self._requests, self._peak, send), daemon=True
        )
        self._process.start()
        self.base_url = f"http://127.0.0.1:{receive.recv()}/v1"

    @property
    def requests(self) -> int:
        return int(self._requests.value)

    @property
    def peak(self) -> int:
        return int(self._peak.value)

    def reset_counts(self) -> None:
        self._requests.value = 0
        self._peak.value = 0

    @property
    def cpu_seconds(self) -> float:
        """The CPU time the server process has used so far (Linux; 0.0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self._process.terminate()
        self._process.join()


class _DelayHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real server does
    # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for the
    # client's delayed ACK (about 40 ms on Linux), which would be charged to the extractor.
    disable_nagle_algorithm = True
    server: DelayServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, b'{"error": {"message": "not found"}}')
            return
        server = self.server
        with server.lock:
            server.requests.value += 1
            server.in_flight += 1
            server.peak.value = max(server.peak.value, server.in_flight)
        try:
            time.sleep(server.delay)
        finally:
            with server.lock:
                server.in_flight -= 1
        self._send(200, server.body)

    def _send(self, code: int, payload: bytes) -> None:
        self.send_response(code)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def loopback_settings(base_url: str) -> config.Settings:
    """Settings for the delay server: one request per article (``single``), strict JSON schema,
    and no ``EXTRACTOR_*`` or ``OPENAI_*`` variable read."""
    return config.resolve(
        base_url=base_url, mode="json_schema", model="loopback", strategy="single", env={}
    )


def synthetic_articles(directory: Path, count: int) -> list[str]:
    """``count`` short articles, each with distinct text (so no two share a cache key)."""
    directory.mkdir(parents=True, exist_ok=True)
    places = ("Brussels", "Warsaw", "Istanbul", "Geneva", "Riyadh", "Paris", "London", "Helsinki")
    sources = []
    for n in range(count):
        path = directory / f"synthetic-{n:03d}.txt"
        path.write_text(
            f"Talks in {places[n % len(places)]}, round {n + 1}\n\n"
            f"{SENTENCE} Delegates met for round {n + 1} of the talks and agreed to meet again "
            f"in {n % 9 + 2} weeks.\n",
            encoding="utf-8",
        )
        sources.append(str(path))
    return sources


def part_scaling(delay: float, count: int, levels: Sequence[int], workdir: Path) -> None:
    heading(f"Part 2: scaling against a loopback server answering after {delay:g}s")
    sources = synthetic_articles(workdir / "synthetic", count)
    server = ServerProcess(delay)
    try:
        settings = loopback_settings(server.base_url)
        print(
            f"{count} synthetic articles, strategy {settings.strategy} (one request each), "
            f"mode {settings.mode}, cache off, server {server.base_url}"
        )
        # One untimed pass first, so the first timed run does not pay for imports, schema
        # building and the like.
        runner.run(
            sources[:2],
            resolve_method(settings),
            runner.Output(str(workdir / "warm-up.jsonl")),
            runner.RunOptions(concurrency=1),
        )
        rows = []
        base: float | None = None
        for level in levels:
            server.reset_counts()
            output = runner.Output(str(workdir / f"scaling-c{level}.jsonl"))  # fresh: no resume
            summary = runner.run(
                sources, resolve_method(settings), output, runner.RunOptions(concurrency=level)
            )
            wall = summary.wall_seconds
            rate = summary.count("extracted", "failed") / wall * 60
            base = base if base is not None else wall
            speedup = base / wall
            ideal = count * delay / level
            rows.append(
                [
                    level,
                    wall,
                    ideal,
                    rate,
                    f"{speedup:.2f}x",
                    f"{speedup / level:.2f}",
                    server.requests,
                    server.peak,
                    summary.failed,
                ]
            )
        print()
        print(
            table(
                [
                    "concurrency",
                    "wall s",
                    "ideal s",
                    "articles/min",
                    "speed-up",
                    "efficiency",
                    "requests",
                    "peak in flight",
                    "errors",
                ],
                rows,
            )
        )
        print()
        print("target: near linear (efficiency close to 1.00 at every concurrency)")
        print("ideal s = articles x delay / concurrency; efficiency = speed-up / concurrency")
        per_article = ((base or 0.0) - count * delay) / count * 1000
        print(f"overhead per article at concurrency {levels[0]}: {per_article:.1f} ms")
    finally:
        server.stop()


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="part 1 on the first two seeds only")
    parser.add_argument(
        "--corpus",
        type=Path,
        default=DEFAULT_CORPUS,
        help=f"directory of extra .txt articles for part 1 (default {DEFAULT_CORPUS})",
    )
    parser.add_argument(
        "--delay",
        default="0.2,1.0",
        help="part 2 server delays in seconds, comma-separated (default 0.2,1.0: the client's "
        "own CPU time per request shows at the short one)",
    )
    parser.add_argument(
        "--articles", type=int, default=32, help="part 2 synthetic articles (default 32)"
    )
    parser.add_argument("--skip-embedded", action="store_true", help="run part 2 only")
    parser.add_argument("--skip-scaling", action="store_true", help="run part 1 only")
    args = parser.parse_args(argv)
    try:
        delays = [float(value) for value in args.delay.split(",")]
    except ValueError:
        parser.error(f"--delay {args.delay!r}: give seconds, e.g. 0.2 or 0.2,1.0")
    if any(delay < 0 for delay in delays) or args.articles < 1:
        parser.error("--delay must be >= 0 and --articles >= 1")

    if not args.skip_embedded:
        problem = embedded_ready()
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1

    print("Throughput benchmark")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load()}, {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    with tempfile.TemporaryDirectory(prefix="throughput-") as temporary:
        workdir = Path(temporary)
        try:
            if not args.skip_embedded:
                part_embedded(args.corpus, args.quick, workdir)
            if not args.skip_scaling:
                for delay in delays:
                    part_scaling(delay, args.articles, CONCURRENCY, workdir / f"delay-{delay:g}")
        except ExtractorError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
