"""The one module that writes to databases: load extraction records, migrate the schema.

Any SQLAlchemy URL works; SQLite (``sqlite:///out/seeds.sqlite``) and PostgreSQL
(``postgresql+psycopg://user@host/db``) are tested. Loads are idempotent and transactional:

- an article is keyed by its content hash, a run by what makes its output what it is (model,
  mode, strategy, prompt version, schema version, extractor version), an extraction by article and
  run. Loading a record whose article and run are already there adds nothing; the same article
  from another model, strategy or prompt version is a new run beside the old one.
- one load is one transaction: if anything fails, the database is left as it was.
- loads into one database take turns: on PostgreSQL a transaction-level advisory lock, on SQLite
  ``BEGIN IMMEDIATE``; the second waits for the first and then finds its records there, so two
  loads of the same records at once both succeed, and two first loads into a new database do not
  both create the schema.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, func, select, text
from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    IntegrityError,
    NoSuchModuleError,
    OperationalError,
    StatementError,
)

from ..config import masked
from ..errors import BackendError, ConfigError, InputError
from ..schemas import ExtractionRecord, Proposal
from . import tables as t
from .grouping import Report

# The PostgreSQL advisory lock loads take turns on (any 64-bit number of our own).
LOAD_LOCK = 0x6775_6172_616E_7465
# How long a SQLite load waits for another to finish, in seconds.
SQLITE_WAIT = 300.0


@dataclass(frozen=True)
class LoadReport:
    """What a load did: rows added per table, extractions already present, rows now per table."""

    added: dict[str, int]
    skipped: int
    totals: dict[str, int]


def default_url(output: str | None) -> str:
    """The SQLite database beside ``output`` (``out/seeds.jsonl`` -> ``out/seeds.sqlite``)."""
    if output is None or output == "-":
        return "sqlite:///extractions.sqlite"
    return f"sqlite:///{Path(output).with_suffix('.sqlite')}"


def connect(url: str) -> Engine:
    """An engine for ``url``.

    Raises:
        ConfigError: the URL is malformed or its driver is not installed.
    """
    try:
        sqlite = url.startswith("sqlite")
        engine = create_engine(url, connect_args={"timeout": SQLITE_WAIT} if sqlite else {})
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigError(
            f"cannot use database URL {masked(url)!r} ({exc}); give e.g. "
            "sqlite:///out/seeds.sqlite or "
            "postgresql+psycopg://user@127.0.0.1:5432/dbname"
        ) from None
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not Path(database).parent.is_dir():
            raise ConfigError(f"cannot create {database}: its directory does not exist")
        _transactional_sqlite(engine)
    return engine


def _transactional_sqlite(engine: Engine) -> None:
    """Make SQLite roll back schema changes too, enforce foreign keys, and let writers take
    turns.

    Python's sqlite3 driver commits DDL on its own, so a failed first load would leave tables
    behind; SQLAlchemy's documented remedy is to let the driver autocommit and emit BEGIN itself.
    A writer (a connection of ``for_writing(engine)``) begins with ``BEGIN IMMEDIATE``, which takes
    the write lock at once, so a second load waits (up to ``SQLITE_WAIT``) instead of failing
    half-way with "database is locked"; a reader begins as usual and needs no write access.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("writer", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def for_writing(engine: Engine) -> Engine:
    """``engine`` for a transaction that writes: on SQLite it takes the write lock at once."""
    return engine.execution_options(writer=True)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _unreachable(url: str, exc: OperationalError) -> ConfigError:
    return ConfigError(
        f"cannot reach the database {masked(url)}: {masked(_one_line(exc.orig or exc))}; "
        "start it or correct --db"
    )


def check(url: str) -> None:
    """Connect to ``url`` once, so an unreachable database is found before any work is done.

    Raises:
        ConfigError: the URL is unusable or the database cannot be reached.
    """
    engine = connect(url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        raise _unreachable(url, exc) from None
    finally:
        engine.dispose()


def _take_turn(connection: Connection) -> None:
    """Wait until no other load or upgrade is writing to this PostgreSQL database (SQLite's
    ``BEGIN IMMEDIATE`` does the same); released when the transaction ends."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOAD_LOCK})


def _alembic(connection: Connection) -> Config:
    config = Config()
    config.set_main_option(
        "script_location", str(resources.files("extractor.outputs") / "migrations")
    )
    config.attributes["connection"] = connection
    return config


def upgrade(connection: Connection, revision: str = "head") -> None:
    """Migrate the schema reached through ``connection`` to ``revision`` (creating it if new),
    after any other load or upgrade of the database has finished."""
    _take_turn(connection)
    command.upgrade(_alembic(connection), revision)


def migrate(url: str) -> tuple[str | None, str | None]:
    """Create or migrate the schema of the database at ``url`` to the latest revision; the
    revisions before and after.

    Raises:
        ConfigError: the URL is unusable or the database cannot be reached.
    """
    engine = connect(url)
    try:
        with for_writing(engine).begin() as connection:
            before = current_revision(connection)
            upgrade(connection)
            return before, current_revision(connection)
    except OperationalError as exc:
        raise _unreachable(url, exc) from None
    finally:
        engine.dispose()


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    script = ScriptDirectory(str(resources.files("extractor.outputs") / "migrations"))
    head = script.get_current_head()
    assert head is not None
    return head


def counts(connection: Connection) -> dict[str, int]:
    """Rows per table."""
    return counts_of(connection, {table.name for table in t.TABLES})


def counts_of(connection: Connection, names: set[str]) -> dict[str, int]:
    """Rows per table, of the tables of ``tables.TABLES`` named (e.g. those an older revision
    has)."""
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in t.TABLES
        if table.name in names
    }


class _Writer:
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.added: Counter[str] = Counter()

    def insert(self, table: Any, **values: Any) -> Any:
        """Insert one row and return its primary key."""
        result = self.connection.execute(table.insert().values(**values))
        self.added[table.name] += 1
        key = result.inserted_primary_key
        return key[0] if key is not None else None

    def article(self, record: ExtractionRecord) -> None:
        article = record.article
        found = self.connection.execute(
            select(t.articles.c.id).where(t.articles.c.id == article.id)
        ).first()
        if found is None:
            self.insert(t.articles, **t.article_row(record))

    def run(self, record: ExtractionRecord) -> int:
        row = t.run_row(record)
        found = self.connection.execute(
            select(t.extraction_runs).where(t.extraction_runs.c.run_key == row["run_key"])
        ).first()
        if found is not None:
            return int(found.id)
        # Started empty: account() adds each extraction's time and usage.
        zero = dict.fromkeys(("prompt_tokens", "completion_tokens", "total_tokens", "requests"), 0)
        run_id: int = self.insert(t.extraction_runs, **{**row, **zero})
        return run_id

    def account(self, run_id: int, record: ExtractionRecord) -> None:
        """Add an extraction's time and usage to its run."""
        runs = t.extraction_runs
        usage = record.provenance.usage
        at = record.provenance.extracted_at
        row = self.connection.execute(select(runs).where(runs.c.id == run_id)).one()
        self.connection.execute(
            runs.update()
            .where(runs.c.id == run_id)
            .values(
                started_at=min(row.started_at, at),
                finished_at=max(row.finished_at, at),
                prompt_tokens=row.prompt_tokens + usage.prompt_tokens,
                completion_tokens=row.completion_tokens + usage.completion_tokens,
                total_tokens=row.total_tokens + usage.total_tokens,
                requests=row.requests + usage.requests,
            )
        )

    def record(self, record: ExtractionRecord) -> bool:
        """Write one record; False when its extraction is already in the database."""
        self.article(record)
        run_id = self.run(record)
        exists = self.connection.execute(
            select(t.extractions.c.id).where(
                t.extractions.c.article_id == record.article.id,
                t.extractions.c.run_id == run_id,
            )
        ).first()
        if exists is not None:
            return False
        extraction_id = self.insert(t.extractions, run_id=run_id, **t.extraction_row(record))
        self.account(run_id, record)
        for index, proposal in enumerate(record.proposals):
            self.proposal(extraction_id, record.article.id, index, proposal)
        for row in t.dropped_rows(record):
            self.insert(t.dropped, extraction_id=extraction_id, **row)
        return True

    def proposal(self, extraction_id: int, article_id: str, index: int, proposal: Proposal) -> None:
        """A proposal's row and every row under it, each evidence row with its value's id."""
        proposal_id = self.insert(
            t.proposals, extraction_id=extraction_id, **t.proposal_row(article_id, index, proposal)
        )
        last: dict[str, Any] = {}
        for table, row, backs in t.proposal_children(article_id, proposal):
            if backs is not None:
                row = {**row, t.VALUE_ID[backs]: last[backs]}
            last[table.name] = self.insert(table, proposal_id=proposal_id, **row)


def load(records: Iterable[ExtractionRecord], url: str) -> LoadReport:
    """Write ``records`` to the database at ``url`` in one transaction, migrating it first.

    Another load into the same database at the same time waits for this one (and this one for
    it), so overlapping loads both succeed and add each record once.

    Raises:
        ConfigError: the URL is unusable or the database cannot be reached.
        InputError: the database refuses a record SQLite would take (a NUL byte in a text, a
            number out of its range); the message names the record.
        BackendError: a writer that does not take turns (an older extractor) wrote the same rows
            at the same time; loading again adds only what is missing.
    """
    engine = connect(url)
    where = masked(url)
    at = "?"  # the record being written, for a message
    try:
        with for_writing(engine).begin() as connection:
            upgrade(connection)
            writer = _Writer(connection)
            skipped = 0
            for number, record in enumerate(records, start=1):
                at = f"record {number} ({record.article.source})"
                skipped += not writer.record(record)
            totals = counts(connection)
    except OperationalError as exc:
        reason = masked(_one_line(exc.orig or exc))
        raise ConfigError(f"cannot write to {where}: {reason}") from None
    except DataError as exc:
        reason = _one_line(exc.orig or exc)
        fix = (
            "re-extract that article (input with NUL bytes is refused now)"
            if "NUL" in reason
            else "re-extract that article: its record holds a value out of the database's range"
        )
        raise InputError(f"{where} refused {at}: {reason}; {fix}. Nothing was loaded") from None
    except OverflowError:  # SQLite's driver, before the database sees the value
        raise InputError(
            f"{where} refused {at}: it holds an integer past the 64 bits a database holds; "
            "re-extract that article: its record holds a value out of the database's range. "
            "Nothing was loaded"
        ) from None
    except IntegrityError as exc:
        raise BackendError(
            f"{where}: another load wrote the same rows at the same time "
            f"({_one_line(exc.orig or exc)[:200]}); load again: it adds only what is missing"
        ) from None
    except StatementError as exc:
        # A value the column's type cannot take (a date that is no ISO 8601 date, on PostgreSQL).
        raise InputError(
            f"{where} refused {at}: {_one_line(exc.orig or exc)[:200]}; correct that value or "
            "re-extract that article. Nothing was loaded"
        ) from None
    finally:
        engine.dispose()
    return LoadReport(
        added={table.name: writer.added[table.name] for table in t.TABLES},
        skipped=skipped,
        totals=totals,
    )


def _replace_events(
    connection: Connection, grouped: list[tuple[dict[str, Any], list[Report]]]
) -> dict[str, int]:
    """Write the events in place of those the tables held: the tables hold one grouping, of the
    records it was made from (an event's counts would be wrong were some of its reports
    regrouped by a later load and others not). Loading the same events again leaves the tables
    as they were."""
    connection.execute(t.event_proposals.delete())
    connection.execute(t.events.delete())
    added: Counter[str] = Counter()
    for found, reports in grouped:
        connection.execute(t.events.insert().values(**t.event_row(found)))
        added["events"] += 1
        rows = [t.event_proposal_row(found["id"], r) for r in reports]
        connection.execute(t.event_proposals.insert(), rows)
        added["event_proposals"] += len(rows)
    return dict(added)


def load_events(
    records: list[ExtractionRecord],
    grouped: list[tuple[dict[str, Any], list[Report]]],
    url: str,
) -> LoadReport:
    """Load ``records`` (as :func:`load` does) and the events grouped from them, in one
    transaction. The events replace those the database held (group all the records you want
    grouped at once); the records are added as :func:`load` adds them, so loading the same
    records and events again changes nothing.

    Raises:
        As :func:`load`.
    """
    engine = connect(url)
    where = masked(url)
    try:
        with for_writing(engine).begin() as connection:
            upgrade(connection)
            writer = _Writer(connection)
            skipped = sum(not writer.record(record) for record in records)
            added = _replace_events(connection, grouped)
            totals = counts(connection)
            for table in t.EVENT_TABLES:
                totals[table.name] = connection.execute(
                    select(func.count()).select_from(table)
                ).scalar_one()
    except OperationalError as exc:
        reason = masked(_one_line(exc.orig or exc))
        raise ConfigError(f"cannot write to {where}: {reason}") from None
    except (DataError, IntegrityError) as exc:
        raise InputError(
            f"{where} refused the events: {_one_line(exc.orig or exc)[:200]}; nothing was loaded"
        ) from None
    finally:
        engine.dispose()
    names = [table.name for table in (*t.TABLES, *t.EVENT_TABLES)]
    return LoadReport(
        added={name: writer.added[name] + added.get(name, 0) for name in names},
        skipped=skipped,
        totals=totals,
    )


def query(url: str, sql: str) -> list[dict[str, Any]]:
    """Rows of a read-only query, e.g. one of the views (for the CLI and tests)."""
    engine = connect(url)
    try:
        with engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(text(sql))]
    finally:
        engine.dispose()
