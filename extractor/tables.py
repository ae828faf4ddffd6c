"""The relational schema of extraction records (SQLAlchemy Core), as the latest migration leaves it,
and the rows of a record in it.

``extractor/migrations/`` creates and upgrades it (views included: they are defined only there);
``extractor.sink`` writes its rows to a database and ``extractor.export`` to Parquet or CSV files.
The row functions are pure: keys that the database assigns (ids) are left to the writer.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

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

from .config import masked
from .identity import Identity
from .schemas import Actor, Evidence, ExtractionRecord, Proposal

if TYPE_CHECKING:
    from .grouping import Report

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
    Column("url", Text),
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
    Column("code", String(10)),
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
    Column("model_quote", Text, comment="null when == quote"),
    Column("score", Float),
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
    Index("ix_territories_code", excluded_territories.c.code),
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

# Events: proposals grouped across articles (``extractor.grouping``), derived from the records.
events = Table(
    "events",
    metadata,
    Column("id", String(40), primary_key=True, comment="ev- + digest of its earliest report"),
    Column("summary", Text, nullable=False, comment="the earliest report's summary"),
    *_actor("proposer"),
    *_actor("beneficiary"),
    Column("guarantee_type", String(40), nullable=False, comment="the type most reports give"),
    Column("first_seen", String(10)),
    Column("last_seen", String(10)),
    Column("report_count", Integer, nullable=False),
    Column("article_count", Integer, nullable=False),
    Column("guarantor_count", Integer, nullable=False),
    Column("disagreement_count", Integer, nullable=False),
    Column(
        "claims",
        Text,
        nullable=False,
        comment="JSON: guarantors, response_times, "
        "exclusions, disagreements as extractor events writes them",
    ),
)

event_proposals = Table(
    "event_proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("event_id", ForeignKey("events.id"), nullable=False),
    Column("report", String(100), nullable=False, comment="article id # proposal index"),
    Column("run_key", String(64), nullable=False, comment="extraction_runs.run_key of its record"),
    Column("article_id", String(80), nullable=False),
    Column("position", Integer, nullable=False, comment="index in the record's proposals"),
    Column("source", Text, nullable=False),
    Column("url", Text),
    Column("outlet", Text),
    Column("published", String(10)),
    Column("summary", Text, nullable=False),
    Column("guarantee_type", String(40), nullable=False),
    UniqueConstraint("run_key", "report", name="uq_event_proposals_run_report"),
)

EVENT_INDEXES = (
    Index("ix_event_proposals_event", event_proposals.c.event_id),
    Index("ix_event_proposals_article", event_proposals.c.article_id),
)

# The event tables, parents first (loaded by ``sink.load_events``, not by every load).
EVENT_TABLES = (events, event_proposals)

# The views, as the latest migration that touched them defined them (see migrations/versions).
VIEW_NAMES: tuple[str, ...] = (
    "guarantor_counts",
    "proposals_with_response_time",
    "excluded_territories_by_article",
    "event_guarantors_by_month",
)


# ---------------------------------------------------------------------------------------------
# The rows of a record
# ---------------------------------------------------------------------------------------------


# The integers a database column holds (SQLite's INTEGER, PostgreSQL's BIGINT, Parquet's int64).
INTEGERS = range(-(2**63), 2**63)


def out_of_range(record: ExtractionRecord) -> tuple[str, int] | None:
    """The first integer of ``record`` that no database integer holds, and where it is
    (``provenance.usage.prompt_tokens``); None when there is none."""
    return _first_out_of_range(record.model_dump(), "")


def _first_out_of_range(value: Any, at: str) -> tuple[str, int] | None:
    if isinstance(value, int):
        return None if value in INTEGERS else (at, value)
    if isinstance(value, dict):
        inside = [(f"{at}.{key}" if at else str(key), item) for key, item in value.items()]
    elif isinstance(value, list):
        inside = [(f"{at}[{n}]", item) for n, item in enumerate(value)]
    else:
        return None
    for where, item in inside:
        found = _first_out_of_range(item, where)
        if found is not None:
            return found
    return None


def actor_columns(prefix: str, actor: Actor | None) -> dict[str, Any]:
    """An actor as the three columns ``PREFIX_name``, ``PREFIX_kind``, ``PREFIX_code``."""
    return {
        f"{prefix}_name": actor.name if actor else None,
        f"{prefix}_kind": actor.kind if actor else None,
        f"{prefix}_code": actor.code if actor else None,
    }


def article_row(record: ExtractionRecord) -> dict[str, Any]:
    """The ``articles`` row of a record (the columns the table has)."""
    values = record.article.model_dump()
    return {column.name: values.get(column.name) for column in articles.columns}


def run_row(record: ExtractionRecord) -> dict[str, Any]:
    """The ``extraction_runs`` row of a run holding only this record (a writer adds up the
    times and usage of every record of the run)."""
    provenance = record.provenance
    usage = provenance.usage
    return {
        "run_key": Identity.of(record).run_key,
        "model": provenance.model,
        "base_url": masked(provenance.base_url),
        "mode": provenance.mode,
        "strategy": provenance.strategy,
        "prompt_version": provenance.prompt_version,
        "schema_version": record.schema_version,
        "extractor_version": provenance.extractor_version,
        "started_at": provenance.extracted_at,
        "finished_at": provenance.extracted_at,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "requests": usage.requests,
    }


def extraction_row(record: ExtractionRecord) -> dict[str, Any]:
    """The ``extractions`` row of a record, less ``run_id``."""
    usage = record.provenance.usage
    return {
        "article_id": record.article.id,
        "extracted_at": record.provenance.extracted_at,
        "attempts": record.provenance.attempts,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
        "requests": usage.requests,
        "error_type": record.error.type if record.error else None,
        "error_message": masked(record.error.message) if record.error else None,
    }


def dropped_rows(record: ExtractionRecord) -> list[dict[str, Any]]:
    """The ``dropped`` rows of a record, less ``extraction_id``."""
    return [
        {
            "position": index,
            "field": item.field,
            "value": json.dumps(item.value, ensure_ascii=False),
            "reason": item.reason,
        }
        for index, item in enumerate(record.dropped)
    ]


def proposal_row(index: int, proposal: Proposal) -> dict[str, Any]:
    """The ``proposals`` row of the record's ``index``-th proposal, less ``extraction_id``."""
    rt = proposal.response_time
    return {
        "position": index,
        "summary": proposal.summary,
        **actor_columns("proposer", proposal.proposer),
        **actor_columns("beneficiary", proposal.beneficiary),
        "guarantee_type": proposal.guarantee_type,
        "legally_binding": proposal.legally_binding,
        "response_time_text": rt.text if rt else None,
        "response_time_hours": rt.hours if rt else None,
    }


def evidence_rows(field: str, items: list[Evidence]) -> list[dict[str, Any]]:
    """``evidence`` rows, less ``proposal_id``, filed under ``field``."""
    return [
        {
            "field": field,
            "quote": e.quote,
            "start": e.start,
            "end": e.end,
            "match": e.match,
            "model_quote": e.model_quote,
            "score": e.score,
        }
        for e in items
    ]


def proposal_children(proposal: Proposal) -> Iterator[tuple[Table, dict[str, Any]]]:
    """The rows under a proposal, less ``proposal_id``, parents before their evidence: one per
    guarantor, condition, excluded territory and stance, and one per evidence span (the
    proposal's own under ``proposal``, a guarantor's under ``guarantors[j]``, ...)."""
    for row in evidence_rows("proposal", proposal.evidence):
        yield evidence, row
    for role in ("proposer", "beneficiary"):
        party = getattr(proposal, role)
        if party is not None:
            for row in evidence_rows(role, party.evidence):
                yield evidence, row
    if proposal.response_time is not None:
        for row in evidence_rows("response_time", proposal.response_time.evidence):
            yield evidence, row
    lists: list[tuple[Table, str, list[Any], Any]] = [
        (
            guarantors,
            "guarantors",
            proposal.guarantors,
            lambda g: {**actor_columns("actor", g.actor), "stand": g.position},
        ),
        (
            conditions,
            "conditions",
            proposal.conditions,
            lambda c: {"text": c.text, **actor_columns("bound_party", c.bound_party)},
        ),
        (
            excluded_territories,
            "excluded_territories",
            proposal.excluded_territories,
            lambda x: {"name": x.name, "text": x.text, "code": x.code},
        ),
        (
            stances,
            "stances",
            proposal.stances,
            lambda x: {
                **actor_columns("speaker", x.speaker),
                **actor_columns("actor", x.actor),
                "stance": x.stance,
            },
        ),
    ]
    for table, field, items, values in lists:
        for j, item in enumerate(items):
            yield table, {"position": j, **values(item)}
            for row in evidence_rows(f"{field}[{j}]", item.evidence):
                yield evidence, row


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` row of an event as ``extractor.grouping.events`` gives it."""

    def party(key: str, prefix: str) -> dict[str, Any]:
        value = event.get(key) or {}
        return {
            f"{prefix}_name": value.get("name"),
            f"{prefix}_kind": None,
            f"{prefix}_code": value.get("code"),
        }

    types = event["guarantee_types"]
    claims = {k: event[k] for k in ("guarantors", "response_times", "exclusions", "disagreements")}
    return {
        "id": event["id"],
        "summary": event["summary"],
        **party("proposer", "proposer"),
        **party("beneficiary", "beneficiary"),
        "guarantee_type": next(iter(types)) if types else "other",
        "first_seen": event["first_seen"],
        "last_seen": event["last_seen"],
        "report_count": event["report_count"],
        "article_count": event["article_count"],
        "guarantor_count": len(event["guarantors"]),
        "disagreement_count": len(event["disagreements"]),
        "claims": json.dumps(claims, ensure_ascii=False),
    }


def event_proposal_row(event_id: str, report: Report) -> dict[str, Any]:
    """The ``event_proposals`` row of one report of an event, less ``id``."""
    from .grouping import outlet_of

    article = report.record.article
    return {
        "event_id": event_id,
        "report": report.id,
        "run_key": Identity.of(report.record).run_key,
        "article_id": article.id,
        "position": report.index,
        "source": article.source,
        "url": article.url,
        "outlet": outlet_of(report.record),
        "published": report.published,
        "summary": report.proposal.summary,
        "guarantee_type": report.proposal.guarantee_type,
    }
