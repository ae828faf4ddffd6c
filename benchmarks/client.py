"""Client benchmark: the extractor's own CPU per request, and how many requests one process keeps
in flight against a fast server.

Every figure is taken through ``extractor.extract_many`` (one request per article, strategy
``single``) against the delay server of ``throughput.py``, in a child process of its own, and
divides the child's CPU time by the requests it made: building each request, sending it,
validating and grounding the answer and making the record.

Part 1: the server answers at once, one article at a time and 64 at once: client CPU per
request, and the requests per second one core could drive (1 / CPU per request). Part 2: the
server answers after ``--delay`` seconds, with 8 to 128 articles in flight: the efficiency
(ideal time / wall time, the ideal being articles x delay / in flight), requests per second and
CPU per request.

``--baseline DIR`` runs every measurement a second time with the ``extractor`` package of the
checkout in DIR (e.g. ``git worktree add DIR main``), each right after this checkout's, so the
two are compared under the same load. Prints figures only; it asserts nothing. Run from the
repository root:

    .venv/bin/python benchmarks/client.py [--baseline DIR] [--delay 0.2] [--levels 8,32,64,128]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from throughput import SENTENCE, ServerProcess, load, loopback_settings, table

HERE = Path(__file__).resolve().parent
WARM_UP = 20  # articles run before the clock starts: imports, connections, schema caches


def measure(base_url: str, in_flight: int, count: int) -> dict[str, float | str]:
    """Extract ``count`` synthetic articles ``in_flight`` at a time (in this process); the
    CPU and wall seconds it took, the requests made, the records with an error and the
    checkout the package came from."""
    import extractor
    from extractor.io import articles

    def article(n: int) -> articles.Article:
        """A distinct short article that the loopback server's answer grounds in."""
        text = f"Talks, round {n + 1}\n\n{SENTENCE} Delegates met for round {n + 1}.\n"
        return articles.parse(f"synthetic-{n}", text.encode("utf-8"))

    settings = loopback_settings(base_url)
    items = [article(n) for n in range(WARM_UP + count)]
    many = {"concurrency": in_flight, "settings": settings, "cache": False}  # every one asked
    for _ in extractor.extract_many(items[:WARM_UP], **many):
        pass
    cpu, wall = time.process_time(), time.perf_counter()
    records = list(extractor.extract_many(items[WARM_UP:], **many))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "cpu": cpu,
        "wall": wall,
        "requests": sum(r.provenance.usage.requests for r in records),
        "errors": sum(r.error is not None for r in records),
        "checkout": str(Path(extractor.__file__).resolve().parent.parent),
    }


def child(base_url: str, in_flight: int, count: int, checkout: str | None) -> dict[str, float]:
    """``measure`` in a fresh process, with the ``extractor`` of ``checkout`` (None: this one).

    It runs in the benchmarks folder, so the package is not found in the working directory
    before the one on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("EXTRACTOR_", "OPENAI_"))}
    if checkout is not None:
        env["PYTHONPATH"] = str(Path(checkout).resolve())
    script = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from client import measure; "
        "print(json.dumps(measure(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(HERE), base_url, str(in_flight), str(count)],
        capture_output=True,
        text=True,
        env=env,
        cwd=HERE,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the measurement failed:\n{done.stderr}")
    result = json.loads(done.stdout.splitlines()[-1])
    expected = Path(checkout).resolve() if checkout else HERE.parent
    if Path(result.pop("checkout")) != expected:
        raise SystemExit(f"the measurement did not run the extractor of {expected}")
    return {key: float(value) for key, value in result.items()}


def versions(baseline: str | None) -> list[tuple[str, str | None]]:
    return [("this", None)] + ([("baseline", baseline)] if baseline else [])


def part_cpu(count: int, baseline: str | None) -> None:
    print()
    print("Part 1: client CPU per request (server in another process, answering at once)")
    server = ServerProcess(0.0)
    rows = []
    try:
        for level in (1, 64):
            for name, checkout in versions(baseline):
                served = server.cpu_seconds
                got = child(server.base_url, level, count, checkout)
                served = server.cpu_seconds - served
                per_request = got["cpu"] / got["requests"]
                rows.append(
                    [
                        name,
                        level,
                        int(got["requests"]),
                        per_request * 1000,
                        1 / per_request,
                        got["requests"] / got["wall"],
                        served / (got["requests"] + WARM_UP) * 1000,
                        int(got["errors"]),
                    ]
                )
    finally:
        server.stop()
    headers = ["code", "in flight", "requests", "CPU ms/request", "requests/s per core"]
    print(table([*headers, "requests/s", "server CPU ms/request", "errors"], rows))
    print("requests/s per core = 1 / CPU per request; requests/s = what this machine did")


def part_in_flight(
    delay: float, levels: Sequence[int], per_level: int, baseline: str | None
) -> None:
    print()
    print(f"Part 2: many in flight against a server answering after {delay:g}s")
    server = ServerProcess(delay)
    rows = []
    try:
        for level in levels:
            count = max(per_level, 8 * level)
            for name, checkout in versions(baseline):
                server.reset_counts()
                served = server.cpu_seconds
                got = child(server.base_url, level, count, checkout)
                served = server.cpu_seconds - served
                ideal = count * delay / level
                rows.append(
                    [
                        name,
                        level,
                        count,
                        got["wall"],
                        ideal,
                        f"{ideal / got['wall']:.2f}",
                        got["requests"] / got["wall"],
                        got["cpu"] / got["requests"] * 1000,
                        served / (got["requests"] + WARM_UP) * 1000,
                        server.peak,
                        int(got["errors"]),
                    ]
                )
    finally:
        server.stop()
    headers = ["code", "in flight", "articles", "wall s", "ideal s", "efficiency"]
    headers += ["requests/s", "CPU ms/request", "server CPU ms/request", "peak", "errors"]
    print(table(headers, rows))
    print("efficiency = ideal s / wall s; ideal s = articles x delay / in flight")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=500, help="part 1 requests (500)")
    parser.add_argument("--delay", type=float, default=0.2, help="part 2 server delay (0.2 s)")
    parser.add_argument(
        "--levels", default="8,32,64,128", help="part 2 requests in flight (8,32,64,128)"
    )
    parser.add_argument(
        "--articles", type=int, default=256, help="part 2 articles per level, at least 8 x it"
    )
    parser.add_argument(
        "--baseline", metavar="DIR", help="also measure the extractor of the checkout in DIR"
    )
    args = parser.parse_args(argv)
    if args.baseline and not (Path(args.baseline) / "extractor" / "__init__.py").is_file():
        parser.error(f"--baseline {args.baseline}: no extractor package there; give a checkout")
    print("Client benchmark")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load()}, {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    part_cpu(args.requests, args.baseline)
    levels = [int(level) for level in args.levels.split(",")]
    part_in_flight(args.delay, levels, args.articles, args.baseline)
    print(f"load average at the end {load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
