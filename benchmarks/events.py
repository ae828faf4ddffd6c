"""Events benchmark: how the time to group proposals into events grows with the records.

Builds synthetic records (one proposal each) reporting a fixed share of distinct proposals
(one event per ``--per-event`` records on average, its reports within a month, proposers,
beneficiaries and guarantors drawn from 40 states, each event's quotes sharing some words, and
``--per-day`` records a day, so 10,000 records span 400 days and 100,000 eleven years), then
times ``extractor.outputs.grouping.grouped`` (grouping and consolidation, not building the
records) for each
size, and prints the seconds, the microseconds per record, the growth against the first size
and the comparisons of two reports per record. Linear growth keeps the microseconds and the
comparisons per record flat.

Prints figures only; it asserts nothing. Run from the repository root:

    .venv/bin/python benchmarks/events.py                 # 10,000 and 100,000 records
    .venv/bin/python benchmarks/events.py --sizes 1000,10000

Only the project's package (``extractor``) and the standard library are imported.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from datetime import date, timedelta

from extractor.outputs import grouping
from extractor.outputs.grouping import grouped
from extractor.schemas import (
    Actor,
    Article,
    Evidence,
    ExtractionRecord,
    Guarantor,
    Party,
    Proposal,
    Provenance,
    Usage,
)

STATES = [
    "USA", "GBR", "FRA", "DEU", "ITA", "POL", "TUR", "CAN", "AUS", "JPN", "UKR", "RUS", "CHN",
    "QAT", "EGY", "ISR", "MDA", "GEO", "ARM", "AZE", "SRB", "BIH", "KOR", "PRK", "IND", "PAK",
    "SAU", "IRN", "IRQ", "SYR", "LBN", "JOR", "ESP", "NLD", "BEL", "SWE", "FIN", "NOR", "DNK",
    "EST",
]  # fmt: skip
TYPES = [
    "collective_defense",
    "bilateral_agreements",
    "military_assistance",
    "peacekeeping_force",
    "neutrality_with_guarantees",
    "assurances",
]
PROVENANCE = Provenance(
    model="synthetic",
    base_url="http://127.0.0.1:9/v1",
    mode="tools",
    strategy="single",
    prompt_version="extract-v1",
    extractor_version="bench",
    extracted_at="2026-01-01T00:00:00+00:00",
    attempts=1,
    usage=Usage(),
)
START = date(2020, 1, 1)


def synthetic(n: int, per_event: int, per_day: int, seed: int = 20261207) -> list[ExtractionRecord]:
    """``n`` records, each reporting one of about ``n / per_event`` proposals, over
    ``n / per_day`` days (a larger crawl covers a longer time, as many reports a day)."""
    span = max(1, n // per_day)
    rng = random.Random(seed)
    vocabulary = [f"w{k}" for k in range(20000)]
    events = []
    for _ in range(max(1, n // per_event)):
        proposer, beneficiary = rng.sample(STATES, 2)
        events.append(
            (
                proposer,
                beneficiary,
                rng.sample(STATES, rng.randint(1, 5)),
                rng.choice(TYPES),
                START + timedelta(days=rng.randrange(span)),
                rng.sample(vocabulary, 12),
            )
        )
    records = []
    for i in range(n):
        proposer, beneficiary, guarantors, kind, day, own = rng.choice(events)
        named = [g for g in guarantors if rng.random() < 0.8] or guarantors[:1]
        # The event's own words, some of them, among words of the article's own.
        words = " ".join(rng.sample(own, 6) + rng.sample(vocabulary, 10))
        text = f"Report {i}. {words}."
        span = Evidence(quote=words, start=len(f"Report {i}. "), end=len(text) - 1, match="exact")
        proposal = Proposal(
            summary=words,
            proposer=Party(name=proposer, kind="state", code=proposer, evidence=[span]),
            beneficiary=Party(name=beneficiary, kind="state", code=beneficiary, evidence=[span]),
            guarantee_type=kind,  # type: ignore[arg-type]
            legally_binding=None,
            guarantors=[
                Guarantor(
                    actor=Actor(name=g, kind="state", code=g),
                    position=rng.choice(["unknown", "willing", "declined"]),
                    evidence=[span],
                )
                for g in named
            ],
            response_times=[],
            excluded_territories=[],
            conditions=[],
            stances=[],
            evidence=[span],
        )
        published = day + timedelta(days=rng.randrange(30))
        article = Article(
            id="sha256:" + hashlib.sha256(text.encode()).hexdigest(),
            source=f"{i}.txt",
            title=None,
            published=published.isoformat(),
            language="en",
            text=text,
        )
        records.append(
            ExtractionRecord(
                article=article,
                proposals=[proposal],
                dropped=[],
                provenance=PROVENANCE,
                error=None,
            )
        )
    return records


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="record counts, comma-separated")
    parser.add_argument("--per-event", type=int, default=5, help="records per event, on average")
    parser.add_argument("--per-day", type=int, default=25, help="records per day, on average")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    # Count the comparisons too: unlike seconds, they do not depend on the machine's load.
    compared = 0
    similarity = grouping.similarity

    def counting(a: grouping.Report, b: grouping.Report) -> float:
        nonlocal compared
        compared += 1
        return similarity(a, b)

    grouping.similarity = counting  # type: ignore[assignment]
    print(
        f"{'records':>9}  {'events':>8}  {'seconds':>8}  {'us/record':>9}  {'growth':>7}  "
        f"{'comparisons/record':>18}"
    )
    first: tuple[int, float] | None = None
    for n in sizes:
        records = synthetic(n, args.per_event, args.per_day)
        compared = 0
        began = time.perf_counter()
        found = grouped(records)
        seconds = time.perf_counter() - began
        if first is None:
            first = (n, seconds)
        growth = (seconds / first[1]) / (n / first[0])
        print(
            f"{n:>9,}  {len(found):>8,}  {seconds:>8.2f}  {1e6 * seconds / n:>9.1f}  "
            f"{growth:>6.2f}x  {compared / n:>18.1f}"
        )
    print(
        "growth: time per record against the first size (1.00x is linear); comparisons: "
        f"at most {grouping.CANDIDATES * grouping.MEMBERS} per record"
    )


if __name__ == "__main__":
    main()
