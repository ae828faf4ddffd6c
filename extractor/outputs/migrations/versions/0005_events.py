"""Events: proposals grouped across articles, and a view of each event's guarantors by month

Revision ID: 0005
Revises: 0004

The tables hold what ``extractor events --db`` loads; records loaded without it leave them
empty. ``event_proposals`` names each report's record by ``run_key`` and ``article_id`` and its
proposal by ``ordinal``, so the view reaches the guarantors the record's proposal holds.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Frozen here, as this revision created it: a later change to the view is a new revision.
VIEWS = {
    "event_guarantors_by_month": """
        SELECT ep.event_id, substr(ep.published, 1, 7) AS month, g.actor_code AS code,
               g.position AS position, COUNT(DISTINCT ep.id) AS reports
        FROM event_proposals ep
        JOIN extraction_runs r ON r.run_key = ep.run_key
        JOIN extractions e ON e.article_id = ep.article_id AND e.run_id = r.id
        JOIN proposals p ON p.extraction_id = e.id AND p.ordinal = ep.ordinal
        JOIN guarantors g ON g.proposal_id = p.id
        WHERE g.actor_code IS NOT NULL
        GROUP BY ep.event_id, substr(ep.published, 1, 7), g.actor_code, g.position
    """,
}


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column(
            "id",
            sa.String(length=40),
            primary_key=True,
            comment="ev- + digest of its earliest report",
        ),
        sa.Column("summary", sa.Text(), nullable=False, comment="the earliest report's summary"),
        sa.Column("proposer_name", sa.Text()),
        sa.Column("proposer_kind", sa.String(length=20)),
        sa.Column("proposer_code", sa.String(length=10)),
        sa.Column("beneficiary_name", sa.Text()),
        sa.Column("beneficiary_kind", sa.String(length=20)),
        sa.Column("beneficiary_code", sa.String(length=10)),
        sa.Column(
            "guarantee_type",
            sa.String(length=40),
            nullable=False,
            comment="the type most reports give",
        ),
        sa.Column("first_seen", sa.String(length=10)),
        sa.Column("last_seen", sa.String(length=10)),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.Column("guarantor_count", sa.Integer(), nullable=False),
        sa.Column("disagreement_count", sa.Integer(), nullable=False),
        sa.Column(
            "claims",
            sa.Text(),
            nullable=False,
            comment="JSON: guarantors, response_times, exclusions, disagreements as "
            "extractor events writes them",
        ),
    )
    op.create_table(
        "event_proposals",
        sa.Column("id", sa.String(length=120), primary_key=True),
        sa.Column("event_id", sa.String(length=40), sa.ForeignKey("events.id"), nullable=False),
        sa.Column(
            "report", sa.String(length=100), nullable=False, comment="article id # proposal index"
        ),
        sa.Column(
            "run_key",
            sa.String(length=64),
            nullable=False,
            comment="extraction_runs.run_key of its record",
        ),
        sa.Column("article_id", sa.String(length=80), nullable=False),
        sa.Column(
            "ordinal", sa.Integer(), nullable=False, comment="index in the record's proposals"
        ),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("outlet", sa.Text()),
        sa.Column("published", sa.String(length=10)),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("guarantee_type", sa.String(length=40), nullable=False),
        sa.UniqueConstraint("run_key", "report", name="uq_event_proposals_run_report"),
    )
    op.create_index("ix_event_proposals_event", "event_proposals", ["event_id"])
    op.create_index("ix_event_proposals_article", "event_proposals", ["article_id"])
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
    op.drop_index("ix_event_proposals_article", table_name="event_proposals")
    op.drop_index("ix_event_proposals_event", table_name="event_proposals")
    op.drop_table("event_proposals")
    op.drop_table("events")
