"""Write extraction records as tidy tables (Parquet or CSV), one file per table of the database
schema, so that pandas, DuckDB or Spark read them without parsing nested JSON.

Each table has the database table's columns (``extractor.tables``) with ids numbered in the
order of the records, and a declared Arrow schema taken from those columns. The per-proposal
tables (proposals, guarantors, conditions, excluded_territories, stances, evidence) and
``dropped`` also carry ``article_id`` and ``run_id``, so a reader filters them without a join
(``excluded_territories`` has the territory's ISO 3166-2 ``code`` as the database has). Like a
database load, an
extraction (article and run) that appears twice is written once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
from sqlalchemy import Boolean, Float, Integer, Table

from . import tables as t
from .errors import ConfigError
from .files import replacing, write_error
from .schemas import ExtractionRecord

FORMATS: Final = ("parquet", "csv")
_PER_EXTRACTION: Final = (
    t.proposals,
    t.guarantors,
    t.conditions,
    t.excluded_territories,
    t.stances,
    t.evidence,
    t.dropped,
)
_EXTRA: Final[dict[str, list[tuple[str, pa.DataType]]]] = {
    table.name: [("article_id", pa.string()), ("run_id", pa.int64())] for table in _PER_EXTRACTION
}


def _arrow_type(column: Any) -> pa.DataType:
    if isinstance(column.type, Integer):
        return pa.int64()
    if isinstance(column.type, Float):
        return pa.float64()
    if isinstance(column.type, Boolean):
        return pa.bool_()
    return pa.string()


def arrow_schema(table: Table) -> pa.Schema:
    """The declared Arrow schema of an exported table: the database table's columns, typed and
    nullable as there, then the exported extras."""
    columns = [
        pa.field(c.name, _arrow_type(c), nullable=bool(c.nullable) and not c.primary_key)
        for c in table.columns
    ]
    columns += [pa.field(name, kind) for name, kind in _EXTRA.get(table.name, [])]
    return pa.schema(columns)


@dataclass
class Tables:
    """Rows per table name, in the order ``tables.TABLES`` fills them."""

    rows: dict[str, list[dict[str, Any]]]
    skipped: int  # extractions that appeared more than once

    def arrow(self, name: str) -> pa.Table:
        table = next(x for x in t.TABLES if x.name == name)
        return pa.Table.from_pylist(self.rows[name], schema=arrow_schema(table))


def tidy(records: Iterable[ExtractionRecord]) -> Tables:
    """The rows of every table for ``records``, ids assigned in order, each article, run and
    extraction once (a run's usage and times summed over its records)."""
    rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in t.TABLES}
    articles: set[str] = set()
    runs: dict[str, dict[str, Any]] = {}
    extractions: set[tuple[str, int]] = set()
    skipped = 0

    def add(table: Table, row: dict[str, Any]) -> int:
        number = len(rows[table.name]) + 1
        rows[table.name].append({"id": number, **row})
        return number

    for record in records:
        article_id = record.article.id
        if article_id not in articles:
            articles.add(article_id)
            rows["articles"].append(t.article_row(record))
        run = t.run_row(record)
        existing = runs.get(run["run_key"])
        if existing is None:
            existing = runs[run["run_key"]] = {"id": len(runs) + 1, **run}
            rows["extraction_runs"].append(existing)
            run_id = existing["id"]
        else:
            run_id = existing["id"]
            if (article_id, run_id) not in extractions:
                for name in ("prompt_tokens", "completion_tokens", "total_tokens", "requests"):
                    existing[name] += run[name]
                existing["started_at"] = min(existing["started_at"], run["started_at"])
                existing["finished_at"] = max(existing["finished_at"], run["finished_at"])
        if (article_id, run_id) in extractions:
            skipped += 1
            continue
        extractions.add((article_id, run_id))
        keys = {"article_id": article_id, "run_id": run_id}
        extraction_id = add(t.extractions, {**t.extraction_row(record), "run_id": run_id})
        for index, proposal in enumerate(record.proposals):
            proposal_id = add(
                t.proposals,
                {"extraction_id": extraction_id, **t.proposal_row(index, proposal), **keys},
            )
            for table, row in t.proposal_children(proposal):
                add(table, {"proposal_id": proposal_id, **row, **keys})
        for row in t.dropped_rows(record):
            add(t.dropped, {"extraction_id": extraction_id, **row, **keys})
    return Tables(rows, skipped)


def arrow_tables(records: Iterable[ExtractionRecord]) -> dict[str, pa.Table]:
    """Every exported table of ``records`` as an Arrow table, by name, in ``tables.TABLES``
    order: what :func:`write` writes, without the files (``extractor.to_arrow``)."""
    tables = tidy(records)
    return {table.name: tables.arrow(table.name) for table in t.TABLES}


def write(records: Iterable[ExtractionRecord], directory: Path, fmt: str) -> Tables:
    """Write one ``TABLE.parquet`` (or ``TABLE.csv``) per table into ``directory`` (created),
    each file written whole or not at all.

    Raises:
        ConfigError: an unknown format, or the directory or a file cannot be written.
    """
    if fmt not in FORMATS:
        raise ConfigError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create {directory}: {exc.strerror or exc}") from None
    tables = tidy(records)
    for table in t.TABLES:
        data = tables.arrow(table.name)
        target = directory / f"{table.name}.{fmt}"
        try:
            with replacing(target, binary=True) as handle:
                if fmt == "parquet":
                    import pyarrow.parquet as pq

                    pq.write_table(data, handle)
                else:
                    import pyarrow.csv as pcsv

                    pcsv.write_csv(data, handle)
        except OSError as exc:
            raise write_error(target, exc) from None
    return tables
