"""Schema version 2: article URL, evidence as the article's words (model quote and score beside
them), ISO 3166-2 codes of excluded territories

Revision ID: 0003
Revises: 0002

Rows loaded at schema version 1 are brought to the meaning of version 2: an evidence quote that
differs from the article's text at its offsets becomes ``model_quote`` and the article's words
take its place; their ``score`` stays null (version 1 did not keep it). Territories get the code
of their canonical name as the extractor assigned it when this revision was written.
"""

from __future__ import annotations

import importlib

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# Frozen here, as this revision assigns them.
TERRITORY_CODES = {
    "Crimea": "UA-43",
    "Sevastopol": "UA-40",
    "Donetsk": "UA-14",
    "Luhansk": "UA-09",
    "Zaporizhzhia": "UA-23",
    "Kherson": "UA-65",
    "Kharkiv": "UA-63",
    "Odesa": "UA-51",
    "Mykolaiv": "UA-48",
    "Dnipropetrovsk": "UA-12",
    "Kyiv": "UA-30",
    "Kursk": "RU-KRS",
    "Belgorod": "RU-BEL",
    "Transnistria": "MD-SN",
    "Abkhazia": "GE-AB",
}

articles = sa.table("articles", sa.column("id"), sa.column("text"))
extractions = sa.table("extractions", sa.column("id"), sa.column("article_id"))
proposals = sa.table("proposals", sa.column("id"), sa.column("extraction_id"))
evidence = sa.table(
    "evidence",
    sa.column("proposal_id"),
    sa.column("quote"),
    sa.column("model_quote"),
    sa.column("start"),
    sa.column("end"),
)
territories = sa.table("excluded_territories", sa.column("name"), sa.column("code"))


def _views() -> dict[str, str]:
    views: dict[str, str] = importlib.import_module(
        "extractor.outputs.migrations.versions.0002_views"
    ).VIEWS
    return views


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch_op:
        batch_op.add_column(sa.Column("url", sa.Text(), nullable=True))
    with op.batch_alter_table("evidence") as batch_op:
        batch_op.add_column(
            sa.Column("model_quote", sa.Text(), nullable=True, comment="null when == quote")
        )
        batch_op.add_column(sa.Column("score", sa.Float(), nullable=True))
    with op.batch_alter_table("excluded_territories") as batch_op:
        batch_op.add_column(sa.Column("code", sa.String(length=10), nullable=True))
        batch_op.create_index("ix_territories_code", ["code"], unique=False)

    article_words = (
        sa.select(
            sa.func.substr(
                articles.c.text, evidence.c.start + 1, evidence.c["end"] - evidence.c.start
            )
        )
        .select_from(
            proposals.join(extractions, extractions.c.id == proposals.c.extraction_id).join(
                articles, articles.c.id == extractions.c.article_id
            )
        )
        .where(proposals.c.id == evidence.c.proposal_id)
        .scalar_subquery()
    )
    op.execute(
        evidence.update()
        .where(evidence.c.quote != article_words)
        .values(model_quote=evidence.c.quote, quote=article_words)
    )
    for name, code in TERRITORY_CODES.items():
        op.execute(territories.update().where(territories.c.name == name).values(code=code))


def downgrade() -> None:
    op.execute(
        evidence.update()
        .where(evidence.c.model_quote.is_not(None))
        .values(quote=evidence.c.model_quote)
    )
    # Dropped with ALTER TABLE DROP COLUMN (SQLite 3.35 and later), not by rebuilding the tables,
    # which the foreign keys and the views over them would block; the views go and come back.
    for name in _views():
        op.execute(f"DROP VIEW {name}")
    op.drop_index("ix_territories_code", table_name="excluded_territories")
    op.drop_column("excluded_territories", "code")
    op.drop_column("evidence", "score")
    op.drop_column("evidence", "model_quote")
    op.drop_column("articles", "url")
    for name, query in _views().items():
        op.execute(f"CREATE VIEW {name} AS {query}")
