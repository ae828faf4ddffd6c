"""Schema version 4: a joint proposal keeps every proposer

Revision ID: 0006
Revises: 0005

- ``co_proposers``: one row per further proposer of a proposal (``ordinal`` its index in the
  record's ``co_proposers``), the state or organisation as ``actor_name``/``actor_kind``/
  ``actor_code`` and the person speaking for it; indexed on ``proposal_id`` and ``actor_code``.
  Its evidence rows are filed under ``co_proposers[j]``, as the proposer's under ``proposer``.

Rows of version 3 have no co-proposers: the table starts empty. A downgrade to ``0005`` drops
it and the co-proposers' evidence; version 3 keeps the first proposer only.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "co_proposers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("article_id", sa.String(length=80), nullable=True),
        sa.Column(
            "ordinal",
            sa.Integer(),
            nullable=False,
            comment="index in the proposal's co_proposers",
        ),
        sa.Column("actor_name", sa.Text(), nullable=True),
        sa.Column("actor_kind", sa.String(length=20), nullable=True),
        sa.Column("actor_code", sa.String(length=10), nullable=True),
        sa.Column("person", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"]),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_co_proposers_proposal", "co_proposers", ["proposal_id"])
    op.create_index("ix_co_proposers_actor_code", "co_proposers", ["actor_code"])


def downgrade() -> None:
    op.execute("DELETE FROM evidence WHERE substr(field, 1, 13) = 'co_proposers['")
    op.drop_index("ix_co_proposers_actor_code", table_name="co_proposers")
    op.drop_index("ix_co_proposers_proposal", table_name="co_proposers")
    op.drop_table("co_proposers")
