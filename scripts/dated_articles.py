"""Write the 37 development articles as one JSONL article table with their dates and outlets.

The .txt files state their date only now and then (four of 37), so records made from them
leave most ``article.published`` null, and an event's timeline has nothing to stand on. A crawl
gives the date of each page; this table gives it as a crawl would, from where each text came
from (``corpus/news/SOURCES.md``, ``gold/corpus2/SOURCES.md``, the seeds' gold notes), read
with the ``published`` and ``outlet`` columns ``extractor extract`` takes from a table::

    python scripts/dated_articles.py ../shared /tmp/dated.jsonl
    extractor extract /tmp/dated.jsonl --strategy rules -o out/dated-rules.jsonl

Each row's ``id`` is the file name, so ``extractor eval`` matches the records to the gold. The
texts are read from the shared corpus at run time; this file holds none of them.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# file -> (folder under SHARED or the repository, published, outlet). Seed 004's day is not
# known (January 2025); its date is the middle of the month.
ARTICLES: dict[str, tuple[str, str, str]] = {
    "000_55d82203977299f3.txt": ("seeds", "2022-04-01", "RT"),
    "001_28e14d639c9f1b92.txt": ("seeds", "2022-04-01", "RT"),
    "002_54d6a3d48c9ecc01.txt": ("seeds", "2022-03-30", "The Wall Street Journal"),
    "003_3e415fc9002eb665.txt": ("seeds", "2014-11-19", "The Moscow Times"),
    "004_9bf3a37e56b865ab.txt": ("seeds", "2025-01-15", "Foreign Policy (retold)"),
    "h01.txt": ("corpus/news", "2021-12-23", "Nokta"),
    "h02.txt": ("corpus/news", "2022-03-29", "Nokta"),
    "h03.txt": ("corpus/news", "2022-04-12", "Reuters"),
    "h04.txt": ("corpus/news", "2022-04-22", "Al Jazeera English"),
    "h05.txt": ("corpus/news", "2024-04-24", "Moldavskie Vedomosti"),
    "h06.txt": ("corpus/news", "2025-03-12", "BBC News"),
    "h07.txt": ("corpus/news", "2025-03-14", "Al Jazeera English"),
    "h08.txt": ("corpus/news", "2025-08-21", "The Economist"),
    "h09.txt": ("corpus/news", "2025-11-21", "BBC News"),
    "h10.txt": ("corpus/news", "2026-01-06", "BBC News"),
    "h11.txt": ("corpus/news", "2026-01-26", "ABC News"),
    "h12.txt": ("corpus/news", "2026-02-23", "Reuters"),
    "h2-01.txt": ("corpus/news2", "2022-03-29", "Nokta"),
    "h2-02.txt": ("corpus/news2", "2022-06-27", "Nokta"),
    "h2-03.txt": ("corpus/news2", "2022-07-19", "Nokta"),
    "h2-04.txt": ("corpus/news2", "2022-09-16", "Nokta"),
    "h2-05.txt": ("corpus/news2", "2023-12-18", "Moldavskie Vedomosti"),
    "h2-06.txt": ("corpus/news2", "2024-11-22", "KP Moldova"),
    "h2-07.txt": ("corpus/news2", "2025-08-19", "BBC News"),
    "h2-08.txt": ("corpus/news2", "2025-09-04", "BBC News"),
    "h2-09.txt": ("corpus/news2", "2025-09-30", "BBC News"),
    "h2-10.txt": ("corpus/news2", "2025-10-23", "The Economist"),
    "h2-11.txt": ("corpus/news2", "2025-12-12", "BBC News"),
    "h2-12.txt": ("corpus/news2", "2025-12-24", "BBC News"),
    "h2-13.txt": ("corpus/news2", "2026-02-18", "Al Jazeera English"),
    "h2-14.txt": ("corpus/news2", "2026-02-22", "BBC News"),
    "h2-15.txt": ("corpus/news2", "2025-07-04", "BBC News"),
    "h2-16.txt": ("corpus/news2", "2025-10-29", "BBC News"),
    "h2-17.txt": ("corpus/news2", "2025-11-27", "The Economist"),
    "h2-18.txt": ("corpus/news2", "2022-03-30", "Nokta"),
    "h2-19.txt": ("corpus/news2", "2024-02-20", "Nokta"),
    "h2-20.txt": ("corpus/news2", "2021-10-03", "Nokta"),
}


def main(shared: Path, output: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    with output.open("w", encoding="utf-8") as handle:
        for name, (folder, published, outlet) in ARTICLES.items():
            base = root if folder == "seeds" else shared
            text = (base / folder / name).read_text(encoding="utf-8")
            row = {"id": name, "text": text, "published": published, "outlet": outlet}
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{len(ARTICLES)} articles -> {output}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python scripts/dated_articles.py SHARED_DIR OUTPUT.jsonl")
    main(Path(sys.argv[1]), Path(sys.argv[2]))
