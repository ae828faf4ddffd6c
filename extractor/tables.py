"""The relational schema of extraction records (SQLAlchemy Core), as the latest migration leaves it.

``extractor/migrations/`` creates and upgrades it (views included: they are defined only there);
``extractor.sink`` writes to it.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()


def _actor(prefix: str) -> list[Column[object]]:
    return [
        Column(f"{prefix}_name", Text),
        Column(f"{prefix}_kind", String(20)),
        Column(f"{prefix}_code", String(10)),
    ]


articles = Table(
    "articles",
    metadata,
    Column("id", String(80), primary_key=True, comment="sha256: + hex of the UTF-8 text"),
    Column("source", Text, nullable=False),
    Column("title", Text),
    Column("published", String(10)),
    Column("language", String(8), nullable=False),
    Column("text", Text, nullable=False),
)

extraction_runs = Table(
    "extraction_runs",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("run_key", String(64), nullable=False, unique=True),
    Column("model", Text, nullable=False),
    Column("base_url", Text, nullable=False),
    Column("mode", String(20), nullable=False),
    Column("strategy", String(20), nullable=False),
    Column("prompt_version", String(40), nullable=False),
    Column("schema_version", String(10), nullable=False),
    Column("extractor_version", String(40), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("finished_at", String(32), nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("total_tokens", Integer, nullable=False),
    Column("requests", Integer, nullable=False),
)

extractions = Table(
    "extractions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("article_id", ForeignKey("articles.id"), nullable=False),
    Column("run_id", ForeignKey("extraction_runs.id"), nullable=False),
    Column("extracted_at", String(32), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("total_tokens", Integer, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("error_type", String(40)),
    Column("error_message", Text),
    UniqueConstraint("article_id", "run_id", name="uq_extractions_article_run"),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("extraction_id", ForeignKey("extractions.id"), nullable=False),
    Column("position", Integer, nullable=False, comment="index in the record's proposals"),
    Column("summary", Text, nullable=False),
    *_actor("proposer"),
    *_actor("beneficiary"),
    Column("guarantee_type", String(40), nullable=False),
    Column("legally_binding", Boolean),
    Column("response_time_text", Text),
    Column("response_time_hours", Float),
)

guarantors = Table(
    "guarantors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("position", Integer, nullable=False),
    *_actor("actor"),
    Column("stand", String(20), nullable=False, comment="the guarantor's position field"),
)

conditions = Table(
    "conditions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    *_actor("bound_party"),
)

excluded_territories = Table(
    "excluded_territories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("text", Text, nullable=False),
)

stances = Table(
    "stances",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("position", Integer, nullable=False),
    *_actor("speaker"),
    *_actor("actor"),
    Column("stance", String(20), nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("field", String(80), nullable=False, comment="e.g. proposal, guarantors[2]"),
    Column("quote", Text, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("match", String(12), nullable=False),
)

dropped = Table(
    "dropped",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("extraction_id", ForeignKey("extractions.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("field", Text, nullable=False),
    Column("value", Text, comment="JSON"),
    Column("reason", Text, nullable=False),
)

INDEXES = (
    Index("ix_extractions_article", extractions.c.article_id),
    Index("ix_proposals_extraction", proposals.c.extraction_id),
    Index("ix_proposals_proposer_code", proposals.c.proposer_code),
    Index("ix_guarantors_proposal", guarantors.c.proposal_id),
    Index("ix_guarantors_actor_code", guarantors.c.actor_code),
    Index("ix_conditions_proposal", conditions.c.proposal_id),
    Index("ix_territories_proposal", excluded_territories.c.proposal_id),
    Index("ix_territories_name", excluded_territories.c.name),
    Index("ix_stances_proposal", stances.c.proposal_id),
    Index("ix_evidence_proposal", evidence.c.proposal_id),
    Index("ix_dropped_extraction", dropped.c.extraction_id),
)

# Child tables in the order a load fills them (parents first).
TABLES = (
    articles,
    extraction_runs,
    extractions,
    proposals,
    guarantors,
    conditions,
    excluded_territories,
    stances,
    evidence,
    dropped,
)

# The views, as the latest migration that touched them defined them (see migrations/versions).
VIEW_NAMES: tuple[str, ...] = (
    "guarantor_counts",
    "proposals_with_response_time",
    "excluded_territories_by_article",
)
