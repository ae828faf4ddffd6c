"""Measure the CPU time candidate finding costs on a large article, before any request.

Prints plain text; checks no threshold. Imports only ``extractor`` and the standard library.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from extractor import strategies
from extractor.core import normalize
from extractor.io.articles import MAX_BYTES

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "news"


def large_article(size: int) -> str:
    """The seeds and the corpus (when present) repeated to ``size`` UTF-8 bytes at most."""
    paths = sorted((ROOT / "seeds").glob("*.txt")) + sorted(CORPUS.glob("*.txt"))
    base = "\n\n".join(path.read_text(encoding="utf-8") for path in paths) + "\n\n"
    text = base * (size // len(base.encode()) + 1)
    while len(text.encode()) > size:
        text = text[: len(text) - (len(text.encode()) - size) // 2 - 1]
    return text


def many_durations(count: int) -> str:
    """``count`` distinct durations, none written as a deadline: each phrase is looked for."""
    return " ".join(f"it took {n} days." for n in range(1, count + 1))


def cpu(action: Callable[[], object]) -> tuple[float, object]:
    began = time.process_time()
    result = action()
    return time.process_time() - began, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bytes", type=int, default=1_900_000, help="size of the large article")
    parser.add_argument("--durations", type=int, default=20_000, help="distinct durations")
    args = parser.parse_args()
    assert args.bytes <= MAX_BYTES
    texts = {
        f"large article, {args.bytes:,} bytes": large_article(args.bytes),
        f"{args.durations:,} distinct durations": many_durations(args.durations),
    }
    print(f"{'text':<36} {'step':<16} {'cpu s':>8} {'found':>7}")
    for name, text in texts.items():
        steps: dict[str, Callable[[], object]] = {
            "fold": lambda text=text: normalize._fold(text),
            "find_durations": lambda text=text: normalize.find_durations(text),
            "deadlines": lambda text=text: strategies.deadlines(text),
        }
        for step, action in steps.items():
            seconds, result = cpu(action)
            found = len(result) if isinstance(result, list) else "-"
            print(f"{name:<36} {step:<16} {seconds:>8.2f} {found:>7}")


if __name__ == "__main__":
    main()
