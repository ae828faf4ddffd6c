"""Write extraction records as tidy tables (Parquet or CSV), one file per table of the database
schema, so that pandas, DuckDB or Spark read them without parsing nested JSON.

Each table has the database table's columns (``extractor.outputs.tables``) and a declared Arrow
schema taken from those columns: dates as dates, times as UTC timestamps. Ids are strings derived
from what the rows are, not numbered, so the same extraction has the same ids in every export and
two exports appended together never join one article's rows to another's: a run's id is the start of
its ``run_key``, an extraction's a digest of its article and run, and a row under it the
extraction's id with its place (``<extraction>.p0`` a proposal, ``<extraction>.p0.g1`` its second
guarantor, ``<extraction>.p0.cp0`` its first co-proposer, ``<extraction>.p0.e3`` its fourth
evidence span, ``<extraction>.d0`` the first dropped value). Every table under an article has
``article_id``; the per-extraction ones also carry ``run_id``, so a reader filters them without a
join. Like a database load, an extraction (article and run) that appears twice is written once. In
CSV, a text cell a spreadsheet would run as a formula is written with a single quote in front
(``neutralised``). ``events`` and ``event_proposals`` hold the records' proposals grouped into
events, as ``extractor events --db`` loads them."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Final

import pyarrow as pa
from sqlalchemy import Boolean, Float, Integer, Table

from ..errors import ConfigError
from ..io.files import replacing, write_error
from ..schemas import ExtractionRecord
from . import tables as t
from .grouping import grouped

FORMATS: Final = ("parquet", "csv")
_PER_EXTRACTION: Final = (
    t.proposals,
    t.co_proposers,
    t.guarantors,
    t.conditions,
    t.excluded_territories,
    t.stances,
    t.evidence,
    t.dropped,
)
_EXTRA: Final[dict[str, list[tuple[str, pa.DataType]]]] = {
    table.name: [("run_id", pa.string())] for table in _PER_EXTRACTION
}
# The letter of a row's place in its id, by table.
_PLACE: Final = {
    "co_proposers": "cp",
    "response_times": "t",
    "guarantors": "g",
    "conditions": "c",
    "excluded_territories": "x",
    "stances": "s",
    "evidence": "e",
}


def _is_id(name: str) -> bool:
    return name == "id" or name.endswith("_id")


def _arrow_type(column: Any) -> pa.DataType:
    if _is_id(column.name):
        return pa.string()  # derived ids (see the module's docstring), article ids
    if isinstance(column.type, t.IsoDate):
        return pa.date32()
    if isinstance(column.type, t.IsoTimestamp):
        return pa.timestamp("us", tz="UTC")
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


# The record tables, then the events grouped from the records (``extractor.outputs.grouping``).
_ALL: Final = (*t.TABLES, *t.EVENT_TABLES)


@dataclass
class Tables:
    """Rows per table name, in the order ``tables.TABLES`` fills them."""

    rows: dict[str, list[dict[str, Any]]]
    skipped: int  # extractions that appeared more than once

    def arrow(self, name: str) -> pa.Table:
        table = next(x for x in _ALL if x.name == name)
        converters = {
            c.name: date.fromisoformat if isinstance(c.type, t.IsoDate) else datetime.fromisoformat
            for c in table.columns
            if isinstance(c.type, (t.IsoDate, t.IsoTimestamp))
        }
        rows = [
            {
                k: converters[k](v) if k in converters and v is not None else v
                for k, v in row.items()
            }
            for row in self.rows[name]
        ]
        return pa.Table.from_pylist(rows, schema=arrow_schema(table))


def extraction_id(article_id: str, run_key: str) -> str:
    """The id of an article's extraction in a run: the same in every export."""
    return hashlib.sha256(json.dumps([article_id, run_key]).encode()).hexdigest()[:16]


def tidy(records: Iterable[ExtractionRecord]) -> Tables:
    """The rows of every table for ``records``, each article, run and extraction once (a run's
    usage and times summed over its records), with ids derived from what each row is, and the
    events of the records' proposals."""
    records = list(records)
    rows: dict[str, list[dict[str, Any]]] = {table.name: [] for table in _ALL}
    articles: set[str] = set()
    runs: dict[str, dict[str, Any]] = {}
    extractions: set[str] = set()
    skipped = 0

    for record in records:
        article_id = record.article.id
        if article_id not in articles:
            articles.add(article_id)
            rows["articles"].append(t.article_row(record))
        run = t.run_row(record)
        run_id = run["run_key"][:16]
        key = extraction_id(article_id, run["run_key"])
        if key in extractions:
            skipped += 1
            continue
        extractions.add(key)
        existing = runs.get(run_id)
        if existing is None:
            runs[run_id] = {"id": run_id, **run}
            rows["extraction_runs"].append(runs[run_id])
        else:
            for name in ("prompt_tokens", "completion_tokens", "total_tokens", "requests"):
                existing[name] += run[name]
            existing["started_at"] = min(existing["started_at"], run["started_at"])
            existing["finished_at"] = max(existing["finished_at"], run["finished_at"])
        rows["extractions"].append({"id": key, **t.extraction_row(record), "run_id": run_id})
        for index, proposal in enumerate(record.proposals):
            proposal_id = f"{key}.p{index}"
            rows["proposals"].append(
                {
                    "id": proposal_id,
                    "extraction_id": key,
                    **t.proposal_row(article_id, index, proposal),
                    "run_id": run_id,
                }
            )
            count: dict[str, int] = dict.fromkeys(_PLACE, 0)
            last: dict[str, str] = {}
            for table, row, backs in t.proposal_children(article_id, proposal):
                row_id = f"{proposal_id}.{_PLACE[table.name]}{count[table.name]}"
                count[table.name] += 1
                last[table.name] = row_id
                value = {t.VALUE_ID[backs]: last[backs]} if backs is not None else {}
                rows[table.name].append(
                    {"id": row_id, "proposal_id": proposal_id, **row, **value, "run_id": run_id}
                )
        for number, row in enumerate(t.dropped_rows(record)):
            rows["dropped"].append(
                {"id": f"{key}.d{number}", "extraction_id": key, **row, "run_id": run_id}
            )
    for event, reports in grouped(records):
        rows["events"].append(t.event_row(event))
        rows["event_proposals"].extend(t.event_proposal_row(event["id"], r) for r in reports)
    return Tables(rows, skipped)


# A cell a spreadsheet would read as a formula (OWASP, "CSV Injection"): one starting with
# =, +, -, @, a tab or a carriage return. A title like "=HYPERLINK(...)" would run when the CSV
# is opened.
_FORMULA_START: Final = "^[=+\\-@\t\r]"


def neutralised(data: pa.Table) -> pa.Table:
    """``data`` with every string cell that a spreadsheet would run as a formula prefixed with
    a single quote (the OWASP rule), so that it is shown as text. For CSV only: Parquet keeps
    the text as it is, and evidence offsets index into that.
    """
    import pyarrow.compute as pc

    columns = []
    for column in data.columns:
        if pa.types.is_string(column.type):
            formula = pc.match_substring_regex(column, _FORMULA_START)
            quoted = pc.binary_join_element_wise(pa.scalar("'"), column, pa.scalar(""))
            column = pc.if_else(pc.fill_null(formula, False), quoted, column)
        columns.append(column)
    return pa.Table.from_arrays(columns, schema=data.schema)


def arrow_tables(records: Iterable[ExtractionRecord]) -> dict[str, pa.Table]:
    """Every exported table of ``records`` as an Arrow table, by name, in ``tables.TABLES``
    order: what :func:`write` writes, without the files (``extractor.to_arrow``)."""
    tables = tidy(records)
    return {table.name: tables.arrow(table.name) for table in _ALL}


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
    for table in _ALL:
        data = tables.arrow(table.name)
        target = directory / f"{table.name}.{fmt}"
        try:
            with replacing(target, binary=True) as handle:
                if fmt == "parquet":
                    import pyarrow.parquet as pq

                    pq.write_table(data, handle)
                else:
                    import pyarrow.csv as pcsv

                    pcsv.write_csv(neutralised(data), handle)
        except OSError as exc:
            raise write_error(target, exc) from None
    return tables
