"""Client benchmark: the extractor's own CPU per request, and how many requests one process keeps
in flight against a fast server.

Part 1 sends one-request articles (strategy ``single``) one after another to a loopback server in
another process that answers at once, and divides this process's CPU time by the requests made:
the cost of building a request, sending it, validating and grounding the answer and making the
record. Part 2 runs articles through ``extractor.extract_many`` against a server answering after
``--delay`` seconds with 8, 32 and 64 in flight, and prints the efficiency (ideal time / wall
time) and requests per second.

Prints figures only; it asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/client.py [--requests 300] [--delay 0.2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence

from throughput import SENTENCE, ServerProcess, load, loopback_settings, pairs, table

import extractor
from extractor import articles, pipeline
from extractor.client import Engine

LEVELS = (8, 32, 64)


def article(n: int) -> articles.Article:
    """A distinct short article that the loopback server's answer grounds in."""
    text = f"Talks, round {n + 1}\n\n{SENTENCE} Delegates met for round {n + 1}.\n"
    return articles.parse(f"synthetic-{n}", text.encode("utf-8"))


def part_cpu(count: int) -> None:
    print()
    print("Part 1: client CPU per request (server in another process, answering at once)")
    server = ServerProcess(0.0)
    try:
        settings = loopback_settings(server.base_url)
        engine = Engine(settings)
        items = [article(n) for n in range(count + 10)]
        for item in items[:10]:  # warm-up: imports, connections, schema caches
            pipeline.extract(item, engine)
        server.reset_counts()
        cpu, wall = time.process_time(), time.perf_counter()
        for item in items[10:]:
            record = pipeline.extract(item, engine)
            if record.error is not None:
                raise SystemExit(f"error: {record.error.message}")
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        engine.close()
        requests = server.requests
        print(
            pairs(
                [
                    ("requests", requests),
                    ("client CPU ms per request", cpu / requests * 1000),
                    ("wall ms per request", wall / requests * 1000),
                    ("requests/s one core could drive", requests / cpu),
                ]
            )
        )
    finally:
        server.stop()


def part_in_flight(delay: float, per_level: int) -> None:
    print()
    print(f"Part 2: many in flight against a server answering after {delay:g}s")
    server = ServerProcess(delay)
    try:
        chosen = loopback_settings(server.base_url)
        rows = []
        for level in LEVELS:
            count = max(per_level, 4 * level)
            items = [article(n) for n in range(count)]
            server.reset_counts()
            cpu, wall = time.process_time(), time.perf_counter()
            failed = sum(
                r.error is not None
                for r in extractor.extract_many(items, concurrency=level, settings=chosen)
            )
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            ideal = count * delay / level
            rows.append(
                [
                    level,
                    count,
                    wall,
                    ideal,
                    f"{ideal / wall:.2f}",
                    server.requests / wall,
                    cpu / server.requests * 1000,
                    server.peak,
                    failed,
                ]
            )
        print(
            table(
                [
                    "in flight",
                    "articles",
                    "wall s",
                    "ideal s",
                    "efficiency",
                    "requests/s",
                    "CPU ms/request",
                    "peak",
                    "errors",
                ],
                rows,
            )
        )
        print("efficiency = ideal s / wall s; ideal s = articles x delay / in flight")
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=300, help="part 1 requests (300)")
    parser.add_argument("--delay", type=float, default=0.2, help="part 2 server delay (0.2 s)")
    parser.add_argument("--articles", type=int, default=128, help="part 2 articles per level")
    args = parser.parse_args(argv)
    print("Client benchmark")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load()}, {time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    part_cpu(args.requests)
    part_in_flight(args.delay, args.articles)
    return 0


if __name__ == "__main__":
    sys.exit(main())
