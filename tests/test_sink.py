"""The database sink, against SQLite and the real PostgreSQL server alike."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import inspect, select, text

from extractor.config import masked
from extractor.outputs import sink
from extractor.outputs import tables as t
from extractor.schemas import Evidence, ExtractionRecord, Party

HERE = Path(__file__).resolve().parent
PG_ADMIN = os.environ.get(
    "EXTRACTOR_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def seed_records(**provenance: Any) -> list[ExtractionRecord]:
    """The golden records of the five seeds, with the run fields goldens leave out."""
    records = []
    for path in sorted((HERE / "golden").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["provenance"].update(
            base_url="http://127.0.0.1:8089/v1",
            extracted_at="2026-01-01T00:00:00+00:00",
            extractor_version="0.1.0",
            **provenance,
        )
        records.append(ExtractionRecord.model_validate(data))
    return records


def joint_records() -> list[ExtractionRecord]:
    """The seed goldens, each proposal of an article naming France and Germany given them as
    co-proposers, backed by the article's first naming of each (hand-built: no answer gave
    them; the goldens' proposals have none)."""
    records = []
    for record in seed_records():
        text = record.article.text
        if "France" not in text or "Germany" not in text:
            records.append(record)
            continue
        parties = []
        for name, code in (("France", "FRA"), ("Germany", "DEU")):
            start = text.index(name)
            span = Evidence(quote=name, start=start, end=start + len(name), match="exact")
            person = "Emmanuel Macron" if code == "FRA" else None
            parties.append(
                Party(name=name, kind="state", code=code, person=person, evidence=[span])
            )
        proposals = [p.model_copy(update={"co_proposers": parties}) for p in record.proposals]
        records.append(record.model_copy(update={"proposals": proposals}))
    return records


def _postgres() -> Iterator[str]:
    try:
        admin = sink.connect(PG_ADMIN).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        if os.environ.get("CI"):
            raise AssertionError(f"PostgreSQL is not reachable at {PG_ADMIN}: {exc}") from exc
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN}")
    name = f"extractor_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.sqlite'}"
    else:
        yield from _postgres()


def table_counts(url: str) -> dict[str, int]:
    engine = sink.connect(url)
    try:
        with engine.connect() as connection:
            names = {table.name for table in t.TABLES}
            existing = set(engine.dialect.get_table_names(connection))
            if not names <= existing:
                return {}
            return sink.counts(connection)
    finally:
        engine.dispose()


def _actor(row: Any, prefix: str) -> dict[str, Any] | None:
    name = getattr(row, f"{prefix}_name")
    if name is None:
        return None
    return {
        "name": name,
        "kind": getattr(row, f"{prefix}_kind"),
        "code": getattr(row, f"{prefix}_code"),
    }


def read_back(url: str) -> dict[str, dict[str, Any]]:
    """Each stored extraction rebuilt as record fields, keyed by article source."""
    engine = sink.connect(url)
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as c:

        def rows(table: Any, key: Any, value: Any) -> list[Any]:
            return list(c.execute(select(table).where(key == value).order_by(table.c.id)))

        def evidence(proposal_id: int, field: str) -> list[dict[str, Any]]:
            return [
                {
                    "quote": e.quote,
                    "model_quote": e.model_quote,
                    "start": e.start_offset,
                    "end": e.end_offset,
                    "match": e.match,
                    "score": e.score,
                }
                for e in rows(t.evidence, t.evidence.c.proposal_id, proposal_id)
                if e.field == field
            ]

        def backing(column: Any, value_id: int) -> list[dict[str, Any]]:
            """The evidence of a value, found by the value's id alone."""
            return [
                {
                    "quote": e.quote,
                    "model_quote": e.model_quote,
                    "start": e.start_offset,
                    "end": e.end_offset,
                    "match": e.match,
                    "score": e.score,
                }
                for e in rows(t.evidence, column, value_id)
            ]

        def party(p: Any, prefix: str) -> dict[str, Any] | None:
            actor = _actor(p, prefix)
            if actor is None:
                return None
            person = getattr(p, f"{prefix}_person")
            return {**actor, "person": person, "evidence": evidence(p.id, prefix)}

        def co_proposers(proposal_id: int) -> list[dict[str, Any]]:
            found = rows(t.co_proposers, t.co_proposers.c.proposal_id, proposal_id)
            assert [x.ordinal for x in found] == list(range(len(found)))
            return [
                {
                    **(_actor(x, "actor") or {}),
                    "person": x.person,
                    "evidence": evidence(proposal_id, f"co_proposers[{x.ordinal}]"),
                }
                for x in found
            ]

        for ex in c.execute(select(t.extractions, t.articles).join(t.articles)):
            proposals = []
            for p in rows(t.proposals, t.proposals.c.extraction_id, ex.id):
                assert p.article_id == ex.article_id
                times = rows(t.response_times, t.response_times.c.proposal_id, p.id)
                guarantors = rows(t.guarantors, t.guarantors.c.proposal_id, p.id)
                conditions = rows(t.conditions, t.conditions.c.proposal_id, p.id)
                territories = rows(
                    t.excluded_territories, t.excluded_territories.c.proposal_id, p.id
                )
                stances = rows(t.stances, t.stances.c.proposal_id, p.id)
                for row in [*times, *guarantors, *conditions, *territories, *stances]:
                    assert row.article_id == ex.article_id
                ev = t.evidence.c
                proposals.append(
                    {
                        "summary": p.summary,
                        "proposer": party(p, "proposer"),
                        "co_proposers": co_proposers(p.id),
                        "beneficiary": party(p, "beneficiary"),
                        "guarantee_type": p.guarantee_type,
                        "legally_binding": p.legally_binding,
                        "guarantors": [
                            {
                                "actor": _actor(g, "actor"),
                                "position": g.position,
                                "evidence": backing(ev.guarantor_id, g.id),
                            }
                            for g in guarantors
                        ],
                        "response_times": [
                            {
                                "text": x.text,
                                "hours": x.hours,
                                "purpose": x.purpose,
                                "evidence": backing(ev.response_time_id, x.id),
                            }
                            for x in times
                        ],
                        "excluded_territories": [
                            {
                                "name": x.name,
                                "code": x.code,
                                "text": x.text,
                                "evidence": backing(ev.excluded_territory_id, x.id),
                            }
                            for x in territories
                        ],
                        "conditions": [
                            {
                                "text": x.text,
                                "bound_party": _actor(x, "bound_party"),
                                "evidence": backing(ev.condition_id, x.id),
                            }
                            for x in conditions
                        ],
                        "stances": [
                            {
                                "speaker": _actor(x, "speaker"),
                                "actor": _actor(x, "actor"),
                                "stance": x.stance,
                                "evidence": backing(ev.stance_id, x.id),
                            }
                            for x in stances
                        ],
                        "evidence": evidence(p.id, "proposal"),
                    }
                )
            dropped = [
                {"field": d.field, "value": json.loads(d.value), "reason": d.reason}
                for d in rows(t.dropped, t.dropped.c.extraction_id, ex.id)
            ]
            out[ex.source] = {
                "article": {
                    "id": ex.article_id,
                    "source": ex.source,
                    "url": ex.url,
                    "outlet": ex.outlet,
                    "title": ex.title,
                    "published": ex.published,
                    "language": ex.language,
                    "text": ex.text,
                },
                "proposals": proposals,
                "dropped": dropped,
            }
    engine.dispose()
    return out


def test_every_field_of_the_seed_goldens_round_trips(db_url: str) -> None:
    records = joint_records()
    report = sink.load(records, db_url)
    assert report.added["extractions"] == 5 and report.skipped == 0
    assert report.added["co_proposers"] == 2 * 2  # two seeds name France and Germany
    stored = read_back(db_url)
    for record in records:
        expected = record.model_dump(mode="json")
        assert stored[record.article.source] == {
            "article": expected["article"],
            "proposals": expected["proposals"],
            "dropped": expected["dropped"],
        }


def test_loading_the_same_file_twice_adds_nothing(db_url: str) -> None:
    first = sink.load(seed_records(), db_url)
    second = sink.load(seed_records(), db_url)
    assert second.skipped == 5
    assert set(second.added.values()) == {0}
    assert second.totals == first.totals


def test_another_strategy_is_a_new_run_beside_the_old_one(db_url: str) -> None:
    sink.load(seed_records(), db_url)
    report = sink.load(seed_records(strategy="single", prompt_version="extract-v1"), db_url)
    assert report.added["extraction_runs"] == 1
    assert report.added["articles"] == 0
    assert report.totals["extractions"] == 10
    assert report.totals["articles"] == 5
    runs = sink.query(db_url, "SELECT strategy, requests FROM extraction_runs ORDER BY id")
    assert [r["strategy"] for r in runs] == ["guided", "single"]
    assert runs[0]["requests"] == sum(r.provenance.usage.requests for r in seed_records())


def test_a_failure_mid_load_leaves_the_database_as_it_was(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert table_counts(db_url) == {}
    calls = {"n": 0}
    original = sink._Writer.proposal

    def failing(self: Any, *args: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("injected failure")
        original(self, *args)

    monkeypatch.setattr(sink._Writer, "proposal", failing)
    with pytest.raises(RuntimeError, match="injected"):
        sink.load(seed_records(), db_url)
    assert table_counts(db_url) == {}  # not even the tables of a new database remain

    monkeypatch.setattr(sink._Writer, "proposal", original)
    before = sink.load(seed_records()[:2], db_url).totals
    calls["n"] = 0
    monkeypatch.setattr(sink._Writer, "proposal", failing)
    with pytest.raises(RuntimeError, match="injected"):
        sink.load(seed_records(strategy="single"), db_url)
    assert table_counts(db_url) == before


# When the version 1 rows were written, as the extractor writes times.
AT = "2025-06-01T12:00:00+00:00"


def _load_version_1(connection: Any) -> None:
    """Rows as the extractor wrote them at schema version 1 (the evidence quote was the model's
    wording), written with the columns of that version."""
    text_ = "Ukraine proposed that the US and the UK guarantee its security; Crimea is left out."
    connection.execute(
        text(
            "INSERT INTO articles (id, source, title, published, language, text) "
            "VALUES ('sha256:v1', 'v1.txt', NULL, NULL, 'en', :text)"
        ),
        {"text": text_},
    )
    connection.execute(
        text(
            "INSERT INTO extraction_runs (id, run_key, model, base_url, mode, strategy, "
            "prompt_version, schema_version, extractor_version, started_at, finished_at, "
            "prompt_tokens, completion_tokens, total_tokens, requests) VALUES (1, 'k', 'm', "
            "'u', 'json_schema', 'chunked', 'fields-v1', '1', '0.1.0', :at, :at, 1, 1, 2, 1)"
        ),
        {"at": AT},
    )
    connection.execute(
        text(
            "INSERT INTO extractions (id, article_id, run_id, extracted_at, attempts, "
            "prompt_tokens, completion_tokens, total_tokens, requests) "
            "VALUES (1, 'sha256:v1', 1, :at, 1, 1, 1, 2, 1)"
        ),
        {"at": AT},
    )
    connection.execute(
        text(
            "INSERT INTO proposals (id, extraction_id, position, summary, guarantee_type) "
            "VALUES (1, 1, 0, 's', 'other')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO excluded_territories (id, proposal_id, position, name, text) "
            "VALUES (1, 1, 0, 'Crimea', 'Crimea'), (2, 1, 1, 'Donbas', 'Donbas')"
        )
    )
    start = text_.index("the US")
    crimea = text_.index("Crimea")
    connection.execute(
        text(
            'INSERT INTO evidence (id, proposal_id, field, quote, start, "end", match) VALUES '
            "(1, 1, 'guarantors[0]', 'the US', :s, :e, 'exact'), "
            "(2, 1, 'excluded_territories[0]', 'Crimea was left out', :c, :ce, 'fuzzy')"
        ),
        {"s": start, "e": start + 6, "c": crimea, "ce": crimea + len("Crimea is left out")},
    )
    if connection.dialect.name == "postgresql":
        # The rows above chose their ids; move the sequences past them for later loads.
        tables = ("extraction_runs", "extractions", "proposals", "excluded_territories", "evidence")
        for table in tables:
            connection.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 9)"))


def existing_counts(connection: Any) -> dict[str, int]:
    """Rows per table, of the tables the schema has at its revision."""
    names = set(connection.dialect.get_table_names(connection))
    return sink.counts_of(connection, names)


def test_a_version_1_database_upgrades_to_the_latest_with_its_data(db_url: str) -> None:
    engine = sink.connect(db_url)
    with engine.begin() as connection:
        sink.upgrade(connection, "0002")
        _load_version_1(connection)
    with engine.begin() as connection:
        before = existing_counts(connection)
        sink.upgrade(connection)
        assert sink.current_revision(connection) == sink.head_revision()
        assert {k: v for k, v in sink.counts(connection).items() if k in before} == before
    engine.dispose()
    evidence = sink.query(db_url, "SELECT quote, model_quote, score FROM evidence ORDER BY id")
    assert evidence == [
        {"quote": "the US", "model_quote": None, "score": None},
        # The model's wording moves aside; the quote becomes the article's words.
        {"quote": "Crimea is left out", "model_quote": "Crimea was left out", "score": None},
    ]
    codes = sink.query(db_url, "SELECT name, code FROM excluded_territories ORDER BY id")
    assert codes == [{"name": "Crimea", "code": "UA-43"}, {"name": "Donbas", "code": None}]
    assert sink.query(db_url, "SELECT url, outlet FROM articles") == [{"url": None, "outlet": None}]
    # Records of the latest version load beside the upgraded rows.
    report = sink.load(seed_records(), db_url)
    assert report.added["extractions"] == 5


def test_upgrade_from_the_first_migration_keeps_the_data_and_adds_the_views(db_url: str) -> None:
    engine = sink.connect(db_url)
    with engine.begin() as connection:
        sink.upgrade(connection, "0001")
        _load_version_1(connection)
    with engine.begin() as connection:
        assert sink.current_revision(connection) == "0001"
        before = existing_counts(connection)
        sink.upgrade(connection)
        assert sink.current_revision(connection) == sink.head_revision()
        assert {k: v for k, v in sink.counts(connection).items() if k in before} == before
    engine.dispose()
    assert (
        sink.query(db_url, "SELECT COUNT(*) AS n FROM excluded_territories_by_article")[0]["n"] == 2
    )


def test_downgrade_to_version_1_gives_the_model_wording_back(db_url: str) -> None:
    engine = sink.connect(db_url)
    with engine.begin() as connection:
        sink.upgrade(connection, "0002")
        _load_version_1(connection)
        sink.upgrade(connection)
        command.downgrade(sink._alembic(connection), "0002")
        assert sink.current_revision(connection) == "0002"
    engine.dispose()
    quotes = sink.query(db_url, "SELECT quote FROM evidence ORDER BY id")
    assert [q["quote"] for q in quotes] == ["the US", "Crimea was left out"]
    assert sink.query(db_url, "SELECT COUNT(*) AS n FROM guarantor_counts")[0]["n"] == 0


def _load_version_2(connection: Any) -> None:
    """The version 1 rows brought to version 2, and a guarantor and a response time with their
    evidence as version 2 wrote them (the response time on the proposal's row)."""
    _load_version_1(connection)
    sink.upgrade(connection, "0003")
    connection.execute(
        text(
            "UPDATE proposals SET response_time_text = '72 hours', response_time_hours = 72 "
            "WHERE id = 1"
        )
    )
    connection.execute(
        text(
            "INSERT INTO guarantors (id, proposal_id, position, actor_name, actor_kind, "
            "actor_code, stand) VALUES (1, 1, 0, 'the US', 'state', 'USA', 'willing')"
        )
    )
    connection.execute(
        text(
            'INSERT INTO evidence (id, proposal_id, field, quote, start, "end", match) VALUES '
            "(3, 1, 'response_time', '72 hours', 0, 8, 'exact')"
        )
    )
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT setval(pg_get_serial_sequence('guarantors', 'id'), 9)"))


def test_a_version_2_database_upgrades_to_version_3_keyed_on_ids(db_url: str) -> None:
    engine = sink.connect(db_url)
    with engine.begin() as connection:
        sink.upgrade(connection, "0002")
        _load_version_2(connection)
        sink.upgrade(connection, "0004")
    engine.dispose()
    # The one response time is the proposal's first; its evidence is found by its id.
    times = sink.query(
        db_url,
        "SELECT t.ordinal, t.text, t.hours, t.purpose, t.article_id, e.field, e.quote "
        "FROM response_times t JOIN evidence e ON e.response_time_id = t.id",
    )
    assert times == [
        {
            "ordinal": 0,
            "text": "72 hours",
            "hours": 72.0,
            "purpose": None,
            "article_id": "sha256:v1",
            "field": "response_times[0]",
            "quote": "72 hours",
        }
    ]
    # A guarantor's position is its position; its evidence joins on its id alone.
    guarantors = sink.query(
        db_url,
        "SELECT g.ordinal, g.position, g.article_id, e.quote, e.start_offset, e.end_offset "
        "FROM guarantors g JOIN evidence e ON e.guarantor_id = g.id",
    )
    start = guarantors[0]["start_offset"]
    assert guarantors == [
        {
            "ordinal": 0,
            "position": "willing",
            "article_id": "sha256:v1",
            "quote": "the US",
            "start_offset": start,
            "end_offset": start + 6,
        }
    ]
    territories = sink.query(
        db_url,
        "SELECT t.name, e.quote FROM excluded_territories t "
        "JOIN evidence e ON e.excluded_territory_id = t.id",
    )
    assert territories == [{"name": "Crimea", "quote": "Crimea is left out"}]
    assert sink.query(db_url, "SELECT DISTINCT article_id FROM evidence") == [
        {"article_id": "sha256:v1"}
    ]
    assert (
        sink.query(db_url, "SELECT * FROM proposals_with_response_time")[0]["response_time_hours"]
        == 72.0
    )
    assert sink.query(db_url, "SELECT code, position, articles FROM guarantor_counts") == [
        {"code": "USA", "position": "willing", "articles": 1}
    ]
    # Version 3 records load beside the upgraded rows.
    assert sink.load(seed_records(), db_url).added["extractions"] == 5


def test_downgrade_to_version_2_keeps_the_first_response_time(db_url: str) -> None:
    engine = sink.connect(db_url)
    with engine.begin() as connection:
        sink.upgrade(connection, "0002")
        _load_version_2(connection)
        sink.upgrade(connection)
        connection.execute(
            text(
                "INSERT INTO response_times (proposal_id, article_id, ordinal, text, hours) "
                "VALUES (1, 'sha256:v1', 1, '24 hours', 24)"
            )
        )
        command.downgrade(sink._alembic(connection), "0003")
        assert sink.current_revision(connection) == "0003"
    engine.dispose()
    assert sink.query(db_url, "SELECT response_time_text, response_time_hours FROM proposals") == [
        {"response_time_text": "72 hours", "response_time_hours": 72.0}
    ]
    fields = sink.query(db_url, "SELECT field FROM evidence ORDER BY id")
    assert [f["field"] for f in fields] == [
        "guarantors[0]",
        "excluded_territories[0]",
        "response_time",
    ]
    stands = sink.query(db_url, "SELECT position, stand FROM guarantors")
    assert stands == [{"position": 0, "stand": "willing"}]
    assert sink.query(db_url, "SELECT mentions FROM guarantor_counts") == [{"mentions": 1}]


def test_times_and_dates_are_typed_where_the_database_has_the_types(db_url: str) -> None:
    records = [
        r.model_copy(update={"article": r.article.model_copy(update={"published": "2022-03-30"})})
        for r in seed_records()
    ]
    sink.load(records, db_url)
    engine = sink.connect(db_url)
    with engine.connect() as connection:
        columns = {
            c["name"]: c["type"]
            for c in inspect(connection).get_columns("extractions")
            + inspect(connection).get_columns("articles")
        }
        if connection.dialect.name == "postgresql":
            assert str(columns["extracted_at"]) == "TIMESTAMP"
            assert columns["extracted_at"].timezone
            assert str(columns["published"]) == "DATE"
            newest = connection.execute(
                text("SELECT max(extracted_at) - min(extracted_at) AS span FROM extractions")
            ).scalar_one()
            assert newest.total_seconds() == 0
    engine.dispose()
    # Read back as the record writes them, on either database.
    assert read_back(db_url)[records[0].article.source]["article"]["published"] == "2022-03-30"
    stored = sink.query(db_url, "SELECT published FROM articles")[0]["published"]
    assert str(stored) == "2022-03-30"


def test_views_answer_the_first_questions(db_url: str) -> None:
    sink.load(seed_records(), db_url)
    counts = {
        (row["code"], row["position"]): row["articles"]
        for row in sink.query(db_url, "SELECT * FROM guarantor_counts")
    }
    # Who stands where: France conditional in one seed, named with no stand in another.
    assert counts[("FRA", "conditional")] == 1
    assert counts[("FRA", "unknown")] == 1
    assert counts[("ISR", "declined")] == 1
    assert counts[("TUR", "undecided")] == 1
    times = sink.query(
        db_url, "SELECT source, response_time_hours FROM proposals_with_response_time"
    )
    assert times == [{"source": "seeds/002_54d6a3d48c9ecc01.txt", "response_time_hours": 72.0}]
    territories = sink.query(
        db_url, "SELECT source, territory FROM excluded_territories_by_article ORDER BY territory"
    )
    assert [(r["source"][-24:], r["territory"]) for r in territories] == [
        ("002_54d6a3d48c9ecc01.txt", "Crimea"),
        ("002_54d6a3d48c9ecc01.txt", "Donbas"),
    ]


def test_bad_urls_are_configuration_errors() -> None:
    from extractor.errors import ConfigError

    with pytest.raises(ConfigError, match="cannot use database URL"):
        sink.connect("nosuchdb://x")
    with pytest.raises(ConfigError, match="directory does not exist"):
        sink.connect("sqlite:////no/such/dir/x.sqlite")
    assert masked("postgresql+psycopg://u:secret@h/db") == "postgresql+psycopg://u:***@h/db"


def test_a_date_postgresql_cannot_take_is_a_one_line_input_error(db_url: str) -> None:
    from extractor.errors import InputError

    [first, *_] = seed_records()
    odd = first.model_copy(
        update={"article": first.article.model_copy(update={"published": "spring 2022"})}
    )
    if db_url.startswith("sqlite"):
        # SQLite keeps the text as it stands (it has no date type).
        assert sink.load([odd], db_url).added["articles"] == 1
        return
    with pytest.raises(InputError, match=r"refused record 1 .*'spring 2022' is not an ISO 8601"):
        sink.load([odd], db_url)
    assert table_counts(db_url) == {}


def test_a_co_proposer_is_found_by_its_code_and_its_evidence_by_its_field(db_url: str) -> None:
    sink.load(joint_records(), db_url)
    rows = sink.query(
        db_url,
        "SELECT c.actor_code, c.person, c.article_id = p.article_id AS same_article, e.quote "
        "FROM co_proposers c JOIN proposals p ON p.id = c.proposal_id "
        "JOIN evidence e ON e.proposal_id = p.id "
        "AND e.field = 'co_proposers[' || CAST(c.ordinal AS TEXT) || ']' "
        "WHERE c.actor_code = 'FRA'",
    )
    assert [(r["actor_code"], r["person"], bool(r["same_article"]), r["quote"]) for r in rows] == [
        ("FRA", "Emmanuel Macron", True, "France")
    ] * 2
    engine = sink.connect(db_url)
    with engine.connect() as connection:
        indexes = {i["name"] for i in inspect(connection).get_indexes("co_proposers")}
    engine.dispose()
    assert {"ix_co_proposers_proposal", "ix_co_proposers_actor_code"} <= indexes


def test_a_version_3_database_upgrades_to_version_4_and_back(db_url: str) -> None:
    engine = sink.connect(db_url)
    with engine.begin() as connection:
        sink.upgrade(connection, "0002")
        _load_version_2(connection)
        sink.upgrade(connection, "0005")
        before = existing_counts(connection)
        sink.upgrade(connection)
        assert sink.current_revision(connection) == "0006"
        # Rows of version 3 have no co-proposers: the table starts empty, the rest as it was.
        assert sink.counts(connection) == {**before, "co_proposers": 0}
    engine.dispose()
    sink.load(joint_records(), db_url)
    fields = [f["field"] for f in sink.query(db_url, "SELECT field FROM evidence")]
    kept = [f for f in fields if not f.startswith("co_proposers[")]
    assert len(fields) - len(kept) == 2 * 2  # two seeds' two co-proposers, one span each
    engine = sink.connect(db_url)
    with engine.begin() as connection:
        command.downgrade(sink._alembic(connection), "0005")
        assert "co_proposers" not in set(engine.dialect.get_table_names(connection))
    engine.dispose()
    # Version 3 keeps the first proposer: the co-proposers' evidence goes with their table.
    fields = [f["field"] for f in sink.query(db_url, "SELECT field FROM evidence")]
    assert sorted(fields) == sorted(kept)
