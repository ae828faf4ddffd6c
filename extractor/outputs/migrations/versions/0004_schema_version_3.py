"""Schema version 3: every deadline of a proposal, the person speaking for a party, the article's
outlet, answers cut off; tables keyed and joinable on ids

Revision ID: 0004
Revises: 0003

- ``response_times`` (one row per deadline, with its ``purpose``) replaces the proposal's
  ``response_time_text``/``response_time_hours``; a proposal's one response time of version 2
  becomes its first row, and its evidence (field ``response_time``) that row's
  (``response_times[0]``).
- ``proposals.proposer_person``, ``beneficiary_person``; ``articles.outlet``;
  ``extractions.cut_off``.
- every row under an article carries ``article_id``; an evidence row the id of the value it backs
  (``guarantor_id``, ``condition_id``, ``excluded_territory_id``, ``stance_id``,
  ``response_time_id``), filled here from its ``field`` for the rows already loaded.
- names as in the JSON: a list row's index is ``ordinal`` (was ``position``), so a guarantor's
  ``position`` is its position (was ``stand``); offsets are ``start_offset``/``end_offset`` (was
  ``start``/``end``).
- on PostgreSQL, ``articles.published`` is a ``DATE`` and the run and extraction times are
  ``TIMESTAMP WITH TIME ZONE``; SQLite has no such types and keeps the ISO text.

The views are dropped first and made again over the new columns.
"""

from __future__ import annotations

import importlib
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen here, as this revision defines them: a later change to a view is a new revision.
VIEWS = {
    "guarantor_counts": """
        SELECT g.actor_code AS code, g.position AS position,
               COUNT(DISTINCT g.article_id) AS articles, COUNT(*) AS mentions
        FROM guarantors g
        WHERE g.actor_code IS NOT NULL
        GROUP BY g.actor_code, g.position
    """,
    "proposals_with_response_time": """
        SELECT a.source, a.title, r.model, r.strategy, p.proposer_code, p.summary,
               t.ordinal AS response_time_ordinal, t.text AS response_time_text,
               t.hours AS response_time_hours, t.purpose AS response_time_purpose
        FROM response_times t
        JOIN proposals p ON p.id = t.proposal_id
        JOIN extractions e ON e.id = p.extraction_id
        JOIN articles a ON a.id = e.article_id
        JOIN extraction_runs r ON r.id = e.run_id
        WHERE t.hours IS NOT NULL
    """,
    "excluded_territories_by_article": """
        SELECT a.source, a.title, r.model, r.strategy, t.name AS territory, t.text
        FROM excluded_territories t
        JOIN proposals p ON p.id = t.proposal_id
        JOIN extractions e ON e.id = p.extraction_id
        JOIN articles a ON a.id = e.article_id
        JOIN extraction_runs r ON r.id = e.run_id
    """,
}

# Tables whose rows get ``article_id``, and how each finds its extraction.
_UNDER_PROPOSALS = ("guarantors", "conditions", "excluded_territories", "stances", "evidence")
# Tables whose row index ``position`` becomes ``ordinal``.
_ORDERED = ("proposals", "guarantors", "conditions", "excluded_territories", "stances", "dropped")
# Evidence columns holding the id of their value, and the value's table (the ``field`` prefix).
_VALUE_IDS = {
    "guarantor_id": "guarantors",
    "condition_id": "conditions",
    "excluded_territory_id": "excluded_territories",
    "stance_id": "stances",
    "response_time_id": "response_times",
}
_TIMES = (
    ("extraction_runs", "started_at"),
    ("extraction_runs", "finished_at"),
    ("extractions", "extracted_at"),
)


def _version_2_views() -> dict[str, str]:
    views: dict[str, str] = importlib.import_module(
        "extractor.outputs.migrations.versions.0002_views"
    ).VIEWS
    return views


def _rename(table: str, old: str, new: str) -> None:
    # ALTER TABLE ... RENAME COLUMN: PostgreSQL, and SQLite since 3.25, without a table rebuild
    # (which the foreign keys into these tables would block).
    op.execute(f'ALTER TABLE {table} RENAME COLUMN "{old}" TO "{new}"')


def _id_column(name: str, kind: sa.types.TypeEngine[Any], table: str) -> sa.Column[Any]:
    """A column holding the id of a row of ``table``: a foreign key on PostgreSQL. SQLite adds a
    column with a constraint only by rebuilding its table, which the foreign keys into these
    tables block, and would refuse to drop such a column on a downgrade; there it is a plain
    column (the extractor, the only writer, fills it from the row it has just written)."""
    if op.get_bind().dialect.name == "postgresql":
        return sa.Column(name, kind, sa.ForeignKey(f"{table}.id"), nullable=True)
    return sa.Column(name, kind, nullable=True)


def _article_id() -> sa.Column[Any]:
    return _id_column("article_id", sa.String(length=80), "articles")


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in _version_2_views():
        op.execute(f"DROP VIEW {name}")

    op.add_column("articles", sa.Column("outlet", sa.Text(), nullable=True))
    op.add_column(
        "extractions", sa.Column("cut_off", sa.Integer(), nullable=False, server_default="0")
    )
    for table in _ORDERED:
        _rename(table, "position", "ordinal")
    _rename("guarantors", "stand", "position")
    _rename("evidence", "start", "start_offset")
    _rename("evidence", "end", "end_offset")

    op.add_column("proposals", _article_id())
    op.add_column("proposals", sa.Column("proposer_person", sa.Text(), nullable=True))
    op.add_column("proposals", sa.Column("beneficiary_person", sa.Text(), nullable=True))
    op.create_table(
        "response_times",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.String(length=80), nullable=True),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("hours", sa.Float(), nullable=True),
        sa.Column("purpose", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_response_times_proposal", "response_times", ["proposal_id"])
    for table in (*_UNDER_PROPOSALS, "dropped"):
        op.add_column(table, _article_id())
    for column, table in _VALUE_IDS.items():
        op.add_column("evidence", _id_column(column, sa.Integer(), table))
    op.create_index("ix_evidence_guarantor", "evidence", ["guarantor_id"])

    # The rows already loaded: article ids, the one response time as a list of one, value ids.
    op.execute(
        "UPDATE proposals SET article_id = (SELECT e.article_id FROM extractions e "
        "WHERE e.id = proposals.extraction_id)"
    )
    op.execute(
        "UPDATE dropped SET article_id = (SELECT e.article_id FROM extractions e "
        "WHERE e.id = dropped.extraction_id)"
    )
    op.execute(
        "INSERT INTO response_times (proposal_id, article_id, ordinal, text, hours) "
        "SELECT id, article_id, 0, response_time_text, response_time_hours FROM proposals "
        "WHERE response_time_text IS NOT NULL ORDER BY id"
    )
    op.execute("UPDATE evidence SET field = 'response_times[0]' WHERE field = 'response_time'")
    for table in _UNDER_PROPOSALS:
        op.execute(
            f"UPDATE {table} SET article_id = (SELECT p.article_id FROM proposals p "
            f"WHERE p.id = {table}.proposal_id)"
        )
    for column, table in _VALUE_IDS.items():
        op.execute(
            f"UPDATE evidence SET {column} = (SELECT v.id FROM {table} v "
            "WHERE v.proposal_id = evidence.proposal_id "
            f"AND evidence.field = '{table}[' || CAST(v.ordinal AS TEXT) || ']')"
        )

    op.drop_column("proposals", "response_time_text")
    op.drop_column("proposals", "response_time_hours")

    if postgresql:
        op.execute("ALTER TABLE articles ALTER COLUMN published TYPE DATE USING published::date")
        for table, column in _TIMES:
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE TIMESTAMP WITH TIME ZONE "
                f"USING {column}::timestamptz"
            )
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
    if postgresql:
        op.execute(
            "ALTER TABLE articles ALTER COLUMN published TYPE VARCHAR(10) "
            "USING to_char(published, 'YYYY-MM-DD')"
        )
        for table, column in _TIMES:
            # Back to the ISO 8601 text the extractor writes (UTC, offset +00:00).
            op.execute(
                f"ALTER TABLE {table} ALTER COLUMN {column} TYPE VARCHAR(32) USING "
                f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
            )

    # Version 2 holds one response time per proposal: the first; the others and their evidence go.
    op.add_column("proposals", sa.Column("response_time_text", sa.Text(), nullable=True))
    op.add_column("proposals", sa.Column("response_time_hours", sa.Float(), nullable=True))
    first = "FROM response_times t WHERE t.proposal_id = proposals.id AND t.ordinal = 0"
    op.execute(
        f"UPDATE proposals SET response_time_text = (SELECT t.text {first}), "
        f"response_time_hours = (SELECT t.hours {first})"
    )
    op.execute(
        "DELETE FROM evidence WHERE response_time_id IS NOT NULL AND field <> 'response_times[0]'"
    )
    op.execute("UPDATE evidence SET field = 'response_time' WHERE field = 'response_times[0]'")

    op.drop_index("ix_evidence_guarantor", table_name="evidence")
    # Dropped with ALTER TABLE DROP COLUMN (SQLite 3.35 and later), not by rebuilding the tables.
    for column in _VALUE_IDS:
        op.drop_column("evidence", column)
    for table in (*_UNDER_PROPOSALS, "dropped", "proposals"):
        op.drop_column(table, "article_id")
    op.drop_index("ix_response_times_proposal", table_name="response_times")
    op.drop_table("response_times")
    op.drop_column("proposals", "beneficiary_person")
    op.drop_column("proposals", "proposer_person")

    _rename("evidence", "end_offset", "end")
    _rename("evidence", "start_offset", "start")
    _rename("guarantors", "position", "stand")
    for table in _ORDERED:
        _rename(table, "ordinal", "position")
    op.drop_column("extractions", "cut_off")
    op.drop_column("articles", "outlet")
    for name, query in _version_2_views().items():
        op.execute(f"CREATE VIEW {name} AS {query}")
