"""Ray benchmark: one process versus Ray Data with 1 and 2 workers, on many short articles.

A loopback HTTP server (``throughput.ServerProcess``, in a process of its own) answers every
chat completion after a fixed delay. The same synthetic articles (strategy ``single``: one
request each) are extracted by ``runner.run`` in this process with ``-j`` in flight, then on a
local Ray cluster (two CPUs, bound to 127.0.0.1) by 1 and 2 workers with ``-j`` in flight each.
Every run writes a fresh output file (nothing resumes), the record cache is off.

Prints figures only; it asserts nothing. Run from the repository root (needs the ray extra):

    .venv/bin/python benchmarks/ray_scale.py [--articles 2000] [--delay 0.2] [-j 8]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from throughput import ServerProcess, load, loopback_settings, synthetic_articles, table

from extractor import config
from extractor.runs import raydata, runner
from extractor.runs.method import resolve_method


def measure(
    sources: list[str],
    settings: config.Settings,
    out: Path,
    in_flight: int,
    workers: int | None,
) -> runner.Summary:
    """One run into a fresh file; ``workers`` None: this process alone."""
    options = runner.RunOptions(concurrency=in_flight)
    execute = raydata.executor(raydata.LOCAL, workers, options) if workers else None
    return runner.run(
        sources, resolve_method(settings), runner.Output(str(out)), options, execute=execute
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--articles", type=int, default=2000, help="articles (default 2000)")
    parser.add_argument("--delay", type=float, default=0.2, help="server seconds per request")
    parser.add_argument(
        "-j", "--in-flight", type=int, default=8, help="articles in flight per worker"
    )
    parser.add_argument("--workers", default="1,2", help="Ray workers to try (default 1,2)")
    args = parser.parse_args(argv)
    levels = [int(value) for value in args.workers.split(",")]

    print("Ray benchmark")
    print(
        f"python {platform.python_version()}, {os.cpu_count()} CPUs, load average {load()}, "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    server = ServerProcess(args.delay)
    try:
        with tempfile.TemporaryDirectory(prefix="ray-scale-") as temporary:
            workdir = Path(temporary)
            sources = synthetic_articles(workdir / "articles", args.articles)
            settings = loopback_settings(server.base_url)
            print(
                f"{args.articles} synthetic articles, strategy single (one request each), "
                f"server delay {args.delay:g}s, {args.in_flight} in flight per worker, cache off"
            )
            measure(sources[:4], settings, workdir / "warm.jsonl", args.in_flight, None)
            rows: list[list[object]] = []
            one = measure(sources, settings, workdir / "one.jsonl", args.in_flight, None)
            ideal = args.articles * args.delay / args.in_flight
            rows.append(_row("one process", "-", one, ideal, one.wall_seconds, args.articles))
            started = time.monotonic()
            with raydata.cluster(raydata.LOCAL):
                start_seconds = time.monotonic() - started
                measure(sources[:4], settings, workdir / "warm-ray.jsonl", args.in_flight, 1)
                for workers in levels:
                    summary = measure(
                        sources, settings, workdir / f"ray-{workers}.jsonl", args.in_flight, workers
                    )
                    rows.append(
                        _row(
                            "Ray",
                            workers,
                            summary,
                            ideal / workers,
                            one.wall_seconds,
                            args.articles,
                        )
                    )
            print()
            print(
                table(
                    [
                        "run",
                        "workers",
                        "wall s",
                        "ideal s",
                        "articles/min",
                        "vs one process",
                        "overhead ms/article",
                        "errors",
                    ],
                    rows,
                )
            )
            print()
            print(f"local Ray cluster start (not in the rows): {start_seconds:.1f}s")
            print(
                "ideal s = articles x delay / (in flight x workers); overhead ms/article = "
                "(wall - ideal) / articles"
            )
            ray_one = rows[1][2] if len(rows) > 1 else None
            if isinstance(ray_one, float):
                added = (ray_one - one.wall_seconds) / args.articles * 1000
                print(f"Ray with 1 worker adds {added:.1f} ms per article over one process")
    finally:
        server.stop()
    return 0


def _row(
    name: str, workers: object, summary: runner.Summary, ideal: float, base: float, count: int
) -> list[object]:
    wall = summary.wall_seconds
    return [
        name,
        workers,
        wall,
        ideal,
        summary.count("extracted", "failed") / wall * 60,
        f"{base / wall:.2f}x",
        (wall - ideal) / count * 1000,
        summary.failed + summary.count("not started"),
    ]


if __name__ == "__main__":
    sys.exit(main())
