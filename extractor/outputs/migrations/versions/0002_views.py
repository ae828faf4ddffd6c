"""Views for the questions asked first: guarantor counts, response times, excluded territories

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# Frozen here, as this revision created them: a later change to a view is a new revision.
VIEWS = {
    "guarantor_counts": """
        SELECT g.actor_code AS code, g.stand AS position,
               COUNT(DISTINCT e.article_id) AS articles, COUNT(*) AS mentions
        FROM guarantors g
        JOIN proposals p ON p.id = g.proposal_id
        JOIN extractions e ON e.id = p.extraction_id
        WHERE g.actor_code IS NOT NULL
        GROUP BY g.actor_code, g.stand
    """,
    "proposals_with_response_time": """
        SELECT a.source, a.title, r.model, r.strategy, p.proposer_code, p.summary,
               p.response_time_text, p.response_time_hours
        FROM proposals p
        JOIN extractions e ON e.id = p.extraction_id
        JOIN articles a ON a.id = e.article_id
        JOIN extraction_runs r ON r.id = e.run_id
        WHERE p.response_time_hours IS NOT NULL
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


def upgrade() -> None:
    for name, query in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {query}")


def downgrade() -> None:
    for name in VIEWS:
        op.execute(f"DROP VIEW {name}")
