"""Article tables in, tidy tables out: a Parquet table of the seeds extracted through the CLI,
the records exported as Parquet and CSV with the database's columns, and DuckDB reading them.
Model answers come from a loopback server of hand-built completions."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pycountry
import pytest
from click.testing import CliRunner, Result
from handbuilt import LoopbackServer, Script, answer
from test_sink import joint_records, seed_records

from extractor.cli import cli
from extractor.core.identity import Identity
from extractor.core.normalize import TERRITORY_CODES
from extractor.errors import ConfigError
from extractor.io import articles
from extractor.outputs import export, sink
from extractor.outputs import tables as t
from extractor.outputs.grouping import grouped
from extractor.schemas import Dropped

ROOT = Path(__file__).resolve().parent.parent
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def seed_table(path: Path) -> Path:
    """The seeds as a Parquet article table with metadata columns (default column names)."""
    rows = [
        {
            "id": seed.stem,
            "text": seed.read_text(encoding="utf-8"),
            "url": f"https://news.example/{seed.stem}",
            "outlet": "Example News",
            "title": f"Seed {n}",
            "published": "29 марта 2022 года" if n % 2 else "2022-03-30",
        }
        for n, seed in enumerate(SEEDS)
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_a_parquet_article_table_is_extracted_exported_and_read_by_duckdb(tmp_path: Path) -> None:
    table = seed_table(tmp_path / "articles.parquet")
    out, tables = tmp_path / "out.jsonl", tmp_path / "tables"
    with LoopbackServer(Script([answer] * 500)) as server:
        result = invoke(
            *("extract", str(table), "-o", str(out), "--base-url", server.base_url),
            *("--strategy", "chunked"),
        )
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["article"]["source"] for r in records] == [seed.stem for seed in SEEDS]
    assert [r["article"]["title"] for r in records] == [f"Seed {n}" for n in range(5)]
    assert [r["article"]["published"] for r in records] == [
        "2022-03-30",
        "2022-03-29",
        "2022-03-30",
        "2022-03-29",
        "2022-03-30",
    ]
    assert [r["article"]["text"] for r in records] == [s.read_text() for s in SEEDS]

    result = invoke("export", str(out), "--format", "parquet", "-o", str(tables))
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"5 records -> {tables}/ (parquet)"
    db = duckdb.connect()
    count = db.execute(f"SELECT count(*) FROM '{tables}/articles.parquet'").fetchall()
    assert count == [(5,)]
    guarantors = db.execute(
        f"""SELECT a.source, g.actor_code
            FROM '{tables}/guarantors.parquet' g
            JOIN '{tables}/proposals.parquet' p ON p.id = g.proposal_id
            JOIN '{tables}/articles.parquet' a ON a.id = p.article_id
            ORDER BY a.source, g.ordinal"""
    ).fetchall()
    expected = [
        (r["article"]["source"], g["actor"]["code"])
        for r in records
        for p in r["proposals"]
        for g in p["guarantors"]
    ]
    assert guarantors == expected and guarantors
    spans = db.execute(
        f"""SELECT e.quote, substr(a.text, e.start_offset + 1, e.end_offset - e.start_offset)
                   AS span, e.match
            FROM '{tables}/evidence.parquet' e JOIN '{tables}/articles.parquet' a
            ON a.id = e.article_id"""
    ).fetchall()
    assert spans and all(quote == span for quote, span, match in spans if match == "exact")


def test_the_tables_have_the_database_columns_and_a_declared_schema(tmp_path: Path) -> None:
    records = seed_records()
    written = export.write(records, tmp_path, "parquet")
    for table in t.TABLES:
        schema = pq.read_schema(tmp_path / f"{table.name}.parquet")
        assert schema.remove_metadata() == export.arrow_schema(table)
        names = [c.name for c in table.columns]
        assert schema.names[: len(names)] == names
        assert pq.read_table(tmp_path / f"{table.name}.parquet").num_rows == len(
            written.rows[table.name]
        )
    assert pq.read_schema(tmp_path / "evidence.parquet").field("start_offset").type == pa.int64()
    assert pq.read_schema(tmp_path / "proposals.parquet").field("legally_binding").type == (
        pa.bool_()
    )


def test_the_tables_hold_the_rows_a_database_load_holds(tmp_path: Path) -> None:
    records = seed_records() + seed_records(strategy="single") + seed_records()  # one repeated
    written = export.write(records, tmp_path, "csv")
    assert written.skipped == 5
    # The events of the records too, as ``extractor events --db`` loads them.
    report = sink.load_events(records, grouped(records), f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert {name: len(rows) for name, rows in written.rows.items()} == report.totals
    db = duckdb.connect()
    runs = db.execute(
        f"SELECT strategy, requests FROM read_csv('{tmp_path}/extraction_runs.csv') ORDER BY 1"
    ).fetchall()
    default = seed_records()
    expected = sum(r.provenance.usage.requests for r in default)
    assert runs == sorted([(default[0].provenance.strategy, expected), ("single", expected)])
    territories = db.execute(
        f"SELECT DISTINCT name, code FROM read_csv('{tmp_path}/excluded_territories.csv')"
    ).fetchall()
    assert territories and all(code == TERRITORY_CODES.get(name) for name, code in territories)


def test_every_territory_code_is_an_iso_3166_2_subdivision() -> None:
    for name, code in TERRITORY_CODES.items():
        assert pycountry.subdivisions.get(code=code) is not None, (name, code)


def test_export_of_a_file_that_is_not_records_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"x": 1}\n')
    result = CliRunner().invoke(cli, ["export", str(bad), "-o", str(tmp_path / "t")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {bad}:1: ")
    with pytest.raises(ConfigError, match="unknown format"):
        export.write([], tmp_path, "xlsx")


# ---------------------------------------------------------------------------------------------
# Reading article tables


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


def test_jsonl_rows_become_articles_with_mapped_columns(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {"guid": "a1", "body": "Kyiv asked for guarantees.", "link": "https://x.example/1"},
            {"guid": "a2", "body": "   "},
            {
                "body": "<html><body><article><p>Crimea would be left out of the guarantees, "
                "the negotiators said after the second day of talks in Istanbul.</p></article>"
                "</body></html>"
            },
        ],
    )
    columns = articles.Columns.parse("text=body,id=guid,url=link")
    items = list(articles.read([str(path)], columns))
    assert isinstance(items[0], articles.Article)
    assert (items[0].source, items[0].url, items[0].text) == (
        "a1",
        "https://x.example/1",
        "Kyiv asked for guarantees.",
    )
    assert isinstance(items[1], articles.Unreadable)
    assert "row 1 of" in str(items[1].error) and "no text in column 'body'" in str(items[1].error)
    assert isinstance(items[2], articles.Article)
    assert items[2].source == f"{path}#2"
    assert items[2].text.startswith("Crimea would be left out")


def test_a_table_without_its_text_column_names_the_flag(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "feed.jsonl", [{"body": "x"}])
    with pytest.raises(ConfigError, match=r"no column 'text'.*--columns text=COLUMN"):
        list(articles.read([str(path)]))
    with pytest.raises(ConfigError, match="FIELD=COLUMN"):
        articles.Columns.parse("body")


def test_a_table_on_another_filesystem_is_read_through_fsspec() -> None:
    import fsspec

    with fsspec.open("memory://feeds/a.jsonl", "w") as handle:
        handle.write(json.dumps({"text": "Kyiv asked for guarantees.", "id": "m1"}) + "\n")
    (item,) = articles.read(articles.expand(["memory://feeds/a.jsonl"]))
    assert isinstance(item, articles.Article) and item.source == "m1"


# ---------------------------------------------------------------------------------------------
# Metadata columns, stable ids, tables joinable on ids


def test_url_and_outlet_columns_reach_the_record_the_database_and_the_export(
    tmp_path: Path,
) -> None:
    feed = write_jsonl(
        tmp_path / "feed.jsonl",
        [
            {
                "id": "s2",
                "text": SEEDS[2].read_text(encoding="utf-8"),
                "link": "https://news.example/s2",
                "outlet": "Example News",
                "published": "2022-03-30",
            }
        ],
    )
    out, db = tmp_path / "out.jsonl", tmp_path / "out.sqlite"
    result = invoke(
        *("extract", str(feed), "-o", str(out), "--strategy", "rules", "-q"),
        *("--columns", "url=link", "--db", f"sqlite:///{db}"),
    )
    assert result.exit_code == 0, result.stderr
    [record] = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert (record["article"]["url"], record["article"]["outlet"]) == (
        "https://news.example/s2",
        "Example News",
    )
    stored = sink.query(f"sqlite:///{db}", "SELECT url, outlet, published FROM articles")
    assert stored == [
        {"url": "https://news.example/s2", "outlet": "Example News", "published": "2022-03-30"}
    ]
    tables = tmp_path / "tables"
    assert invoke("export", str(out), "-o", str(tables)).exit_code == 0
    exported = duckdb.connect().execute(
        f"SELECT url, outlet, published FROM '{tables}/articles.parquet'"
    )
    assert exported.fetchall() == [
        ("https://news.example/s2", "Example News", datetime.date(2022, 3, 30))
    ]


def test_export_ids_are_the_same_in_every_export_and_appended_exports_join_right(
    tmp_path: Path,
) -> None:
    records = seed_records()
    # The seeds' goldens drop no value; a hand-built dropped value gives the table a row.
    records[0].dropped.append(
        Dropped(field="guarantors", value="Ukraine", reason="the one guaranteed")
    )
    first, second = tmp_path / "first", tmp_path / "second"
    export.write(records, first, "parquet")
    # Another export: the records in another order, beside another strategy's.
    export.write([*reversed(records), *seed_records(strategy="single")], second, "parquet")
    db = duckdb.connect()

    def ids(directory: Path, table: str) -> set[str]:
        return {
            row[0] for row in db.execute(f"SELECT id FROM '{directory}/{table}.parquet'").fetchall()
        }

    for table in ("extractions", "proposals", "guarantors", "evidence", "dropped"):
        assert ids(first, table) and ids(first, table) <= ids(second, table), table
    # Appended, as a user appends the files of two exports.
    for table in ("guarantors", "proposals"):
        db.execute(
            f"CREATE VIEW {table} AS SELECT * FROM read_parquet(['{first}/{table}.parquet', "
            f"'{second}/{table}.parquet'])"
        )
    joined = db.execute(
        "SELECT count(*), count(*) FILTER (WHERE g.article_id <> p.article_id) "
        "FROM guarantors g JOIN proposals p ON p.id = g.proposal_id"
    ).fetchone()
    n = sum(len(p.guarantors) for r in records for p in r.proposals)
    # A default-strategy guarantor (in both exports) joins its proposal in both; a guarantor of
    # the other strategy its one proposal; none joins another article's proposal.
    assert joined == (2 * n * 2 + n, 0)


def test_a_guarantor_joins_its_evidence_on_ids_alone(tmp_path: Path) -> None:
    records = seed_records()
    export.write(records, tmp_path, "parquet")
    rows = (
        duckdb.connect()
        .execute(
            f"""SELECT a.source, g.ordinal, g.actor_code, g.position, e.quote
            FROM '{tmp_path}/guarantors.parquet' g
            JOIN '{tmp_path}/evidence.parquet' e ON e.guarantor_id = g.id
            JOIN '{tmp_path}/articles.parquet' a ON a.id = g.article_id
            """
        )
        .fetchall()
    )
    expected = sorted(
        (r.article.source, j, g.actor.code, g.position, e.quote)
        for r in records
        for p in r.proposals
        for j, g in enumerate(p.guarantors)
        for e in sorted(g.evidence, key=lambda e: e.start)
    )
    assert sorted(rows) == expected and rows


def test_the_tables_speak_sql_dates_as_dates_no_reserved_names(tmp_path: Path) -> None:
    export.write(seed_records(), tmp_path, "parquet")
    every = {table.name: pq.read_schema(tmp_path / f"{table.name}.parquet") for table in t.TABLES}
    assert not any("end" in schema.names for schema in every.values())
    assert every["articles"].field("published").type == pa.date32()
    assert every["extractions"].field("extracted_at").type == pa.timestamp("us", tz="UTC")
    assert every["extraction_runs"].field("started_at").type == pa.timestamp("us", tz="UTC")
    for name, schema in every.items():
        if name not in ("articles", "extraction_runs"):
            assert "article_id" in schema.names, name
    assert set(every["evidence"].names) >= set(t.VALUE_ID.values())
    times = duckdb.connect().execute(
        f"SELECT typeof(extracted_at), extracted_at = TIMESTAMPTZ '2026-01-01 00:00:00+00' "
        f"FROM '{tmp_path}/extractions.parquet' LIMIT 1"
    )
    assert times.fetchall() == [("TIMESTAMP WITH TIME ZONE", True)]


def test_a_co_proposer_row_joins_its_proposal_and_its_evidence_by_field(tmp_path: Path) -> None:
    records = joint_records()
    export.write(records, tmp_path, "parquet")
    rows = (
        duckdb.connect()
        .execute(
            f"""SELECT c.id, c.ordinal, c.actor_code, c.person, c.run_id = p.run_id, e.quote
            FROM '{tmp_path}/co_proposers.parquet' c
            JOIN '{tmp_path}/proposals.parquet' p ON p.id = c.proposal_id
            JOIN '{tmp_path}/evidence.parquet' e
              ON e.proposal_id = p.id AND e.field = 'co_proposers[' || c.ordinal || ']'
            ORDER BY c.id"""
        )
        .fetchall()
    )
    expected = [
        (
            f"{export.extraction_id(r.article.id, Identity.of(r).run_key)}.p{i}.cp{j}",
            j,
            c.code,
            c.person,
            True,
            e.quote,
        )
        for r in records
        for i, p in enumerate(r.proposals)
        for j, c in enumerate(p.co_proposers)
        for e in c.evidence
    ]
    assert rows == sorted(expected) and len(rows) == 4
