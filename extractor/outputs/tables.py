"""The relational schema of extraction records (SQLAlchemy Core), as the latest migration leaves it,
and the rows of a record in it.

``extractor/outputs/migrations/`` creates and upgrades it (views included: they are defined only
there); ``extractor.outputs.sink`` writes its rows to a database and ``extractor.outputs.export``
to Parquet or CSV files.
The row functions are pure: keys that the database assigns (ids) are left to the writer.

Modelled as an analyst queries it: every row under an article carries ``article_id``; an
evidence row carries the id of the value it backs (``guarantor_id``, ``condition_id``, ...), so
joining a value to its evidence needs only ids; a field keeps its JSON name (a guarantor's
``position``), while the index of a row in its record's list is ``ordinal``; offsets are
``start_offset``/``end_offset``; dates and times are typed as such where the database has the
types (see ``IsoDate``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

from ..config import masked
from ..core.identity import Identity
from ..schemas import Actor, Evidence, ExtractionRecord, Party, Proposal

if TYPE_CHECKING:
    from .grouping import Report

metadata = MetaData()


class IsoDate(TypeDecorator[str]):
    """An ISO 8601 date, as the record writes it: ``DATE`` where the database has the type
    (PostgreSQL), the ISO text itself on SQLite, which has no date type and whose date functions
    read that text. Read back as the record's ISO string either way."""

    impl = String(10)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        return dialect.type_descriptor(String(10) if dialect.name == "sqlite" else Date())

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "sqlite":
            return value
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"published {value!r} is not an ISO 8601 date") from None

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return value.isoformat() if isinstance(value, date) else value


class IsoTimestamp(TypeDecorator[str]):
    """An ISO 8601 time with its offset: ``TIMESTAMP WITH TIME ZONE`` where the database has the
    type, the ISO text on SQLite (as ``IsoDate``). Read back in UTC, as the record writes it."""

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(32))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "sqlite":
            return value
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO 8601 time") from None

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if isinstance(value, datetime):
            return value.astimezone(UTC).isoformat()
        return value  # type: ignore[no-any-return]


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
    Column("outlet", Text),
    Column("title", Text),
    Column("published", IsoDate()),
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
    Column("started_at", IsoTimestamp(), nullable=False),
    Column("finished_at", IsoTimestamp(), nullable=False),
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
    Column("extracted_at", IsoTimestamp(), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("total_tokens", Integer, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("cut_off", Integer, nullable=False, server_default="0"),
    Column("error_type", String(40)),
    Column("error_message", Text),
    UniqueConstraint("article_id", "run_id", name="uq_extractions_article_run"),
)

proposals = Table(
    "proposals",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("extraction_id", ForeignKey("extractions.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False, comment="index in the record's proposals"),
    Column("summary", Text, nullable=False),
    *_actor("proposer"),
    Column("proposer_person", Text),
    *_actor("beneficiary"),
    Column("beneficiary_person", Text),
    Column("guarantee_type", String(40), nullable=False),
    Column("legally_binding", Boolean),
)

co_proposers = Table(
    "co_proposers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False, comment="index in the proposal's co_proposers"),
    *_actor("actor"),
    Column("person", Text),
)

response_times = Table(
    "response_times",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("hours", Float),
    Column("purpose", Text),
)

guarantors = Table(
    "guarantors",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False),
    *_actor("actor"),
    Column("position", String(20), nullable=False, comment="the guarantor's position field"),
)

conditions = Table(
    "conditions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False),
    Column("text", Text, nullable=False),
    *_actor("bound_party"),
)

excluded_territories = Table(
    "excluded_territories",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("code", String(10)),
)

stances = Table(
    "stances",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False),
    *_actor("speaker"),
    *_actor("actor"),
    Column("stance", String(20), nullable=False),
)

evidence = Table(
    "evidence",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("proposal_id", ForeignKey("proposals.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    # The value the span backs, by id (null for the proposal's own evidence and its parties',
    # co-proposers' included: theirs is filed under ``co_proposers[j]``).
    Column("guarantor_id", ForeignKey("guarantors.id")),
    Column("condition_id", ForeignKey("conditions.id")),
    Column("excluded_territory_id", ForeignKey("excluded_territories.id")),
    Column("stance_id", ForeignKey("stances.id")),
    Column("response_time_id", ForeignKey("response_times.id")),
    Column("field", String(80), nullable=False, comment="e.g. proposal, guarantors[2]"),
    Column("quote", Text, nullable=False),
    Column("start_offset", Integer, nullable=False),
    Column("end_offset", Integer, nullable=False),
    Column("match", String(12), nullable=False),
    Column("model_quote", Text, comment="null when == quote"),
    Column("score", Float),
)

dropped = Table(
    "dropped",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("extraction_id", ForeignKey("extractions.id"), nullable=False),
    Column("article_id", ForeignKey("articles.id")),
    Column("ordinal", Integer, nullable=False),
    Column("field", Text, nullable=False),
    Column("value", Text, comment="JSON"),
    Column("reason", Text, nullable=False),
)

INDEXES = (
    Index("ix_extractions_article", extractions.c.article_id),
    Index("ix_proposals_extraction", proposals.c.extraction_id),
    Index("ix_proposals_proposer_code", proposals.c.proposer_code),
    Index("ix_co_proposers_proposal", co_proposers.c.proposal_id),
    Index("ix_co_proposers_actor_code", co_proposers.c.actor_code),
    Index("ix_response_times_proposal", response_times.c.proposal_id),
    Index("ix_guarantors_proposal", guarantors.c.proposal_id),
    Index("ix_guarantors_actor_code", guarantors.c.actor_code),
    Index("ix_conditions_proposal", conditions.c.proposal_id),
    Index("ix_territories_proposal", excluded_territories.c.proposal_id),
    Index("ix_territories_name", excluded_territories.c.name),
    Index("ix_territories_code", excluded_territories.c.code),
    Index("ix_stances_proposal", stances.c.proposal_id),
    Index("ix_evidence_proposal", evidence.c.proposal_id),
    Index("ix_evidence_guarantor", evidence.c.guarantor_id),
    Index("ix_dropped_extraction", dropped.c.extraction_id),
)

# Child tables in the order a load fills them (parents first).
TABLES = (
    articles,
    extraction_runs,
    extractions,
    proposals,
    co_proposers,
    response_times,
    guarantors,
    conditions,
    excluded_territories,
    stances,
    evidence,
    dropped,
)

# The evidence column that holds the id of each kind of value (its table's name).
VALUE_ID: dict[str, str] = {
    "guarantors": "guarantor_id",
    "conditions": "condition_id",
    "excluded_territories": "excluded_territory_id",
    "stances": "stance_id",
    "response_times": "response_time_id",
}

# Events: proposals grouped across articles (``extractor.outputs.grouping``), derived from the
# records.
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
    Column("id", String(120), primary_key=True, comment="run id (16) . report: stable"),
    Column("event_id", ForeignKey("events.id"), nullable=False),
    Column("report", String(100), nullable=False, comment="article id # proposal index"),
    Column("run_key", String(64), nullable=False, comment="extraction_runs.run_key of its record"),
    Column("article_id", String(80), nullable=False),
    Column("ordinal", Integer, nullable=False, comment="index in the record's proposals"),
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
        "cut_off": usage.cut_off,
        "error_type": record.error.type if record.error else None,
        "error_message": masked(record.error.message) if record.error else None,
    }


def dropped_rows(record: ExtractionRecord) -> list[dict[str, Any]]:
    """The ``dropped`` rows of a record, less ``extraction_id``."""
    return [
        {
            "article_id": record.article.id,
            "ordinal": index,
            "field": item.field,
            "value": json.dumps(item.value, ensure_ascii=False),
            "reason": item.reason,
        }
        for index, item in enumerate(record.dropped)
    ]


def proposal_row(article_id: str, index: int, proposal: Proposal) -> dict[str, Any]:
    """The ``proposals`` row of the record's ``index``-th proposal, less ``extraction_id``."""
    return {
        "article_id": article_id,
        "ordinal": index,
        "summary": proposal.summary,
        **actor_columns("proposer", proposal.proposer),
        "proposer_person": proposal.proposer.person if proposal.proposer else None,
        **actor_columns("beneficiary", proposal.beneficiary),
        "beneficiary_person": proposal.beneficiary.person if proposal.beneficiary else None,
        "guarantee_type": proposal.guarantee_type,
        "legally_binding": proposal.legally_binding,
    }


def co_proposer_row(article_id: str, index: int, party: Party) -> dict[str, Any]:
    """The ``co_proposers`` row of a proposal's ``index``-th co-proposer, less ``proposal_id``."""
    return {
        "article_id": article_id,
        "ordinal": index,
        **actor_columns("actor", party),
        "person": party.person,
    }


def evidence_rows(article_id: str, field: str, items: list[Evidence]) -> list[dict[str, Any]]:
    """``evidence`` rows, less ``proposal_id`` and the id of their value, filed under ``field``."""
    return [
        {
            "article_id": article_id,
            "field": field,
            "quote": e.quote,
            "start_offset": e.start,
            "end_offset": e.end,
            "match": e.match,
            "model_quote": e.model_quote,
            "score": e.score,
        }
        for e in items
    ]


def proposal_children(
    article_id: str, proposal: Proposal
) -> Iterator[tuple[Table, dict[str, Any], str | None]]:
    """The rows under a proposal, less ``proposal_id``, each value before its evidence, as
    ``(table, row, backs)``: one per co-proposer, response time, guarantor, condition, excluded
    territory and stance, and one per evidence span (the proposal's own under ``proposal``, a
    party's under ``proposer``, ``co_proposers[j]`` or ``beneficiary``, a guarantor's under
    ``guarantors[j]``, ...). ``backs`` is, for an evidence row of a value, the value's table: the
    writer sets the row's ``VALUE_ID[backs]`` to the id of the row of that table written last.
    A party's evidence is found by its ``field`` (``backs`` None), as the proposer's is."""
    for row in evidence_rows(article_id, "proposal", proposal.evidence):
        yield evidence, row, None
    if proposal.proposer is not None:
        for row in evidence_rows(article_id, "proposer", proposal.proposer.evidence):
            yield evidence, row, None
    for j, party in enumerate(proposal.co_proposers):
        yield co_proposers, co_proposer_row(article_id, j, party), None
        for row in evidence_rows(article_id, f"co_proposers[{j}]", party.evidence):
            yield evidence, row, None
    if proposal.beneficiary is not None:
        for row in evidence_rows(article_id, "beneficiary", proposal.beneficiary.evidence):
            yield evidence, row, None
    lists: list[tuple[Table, list[Any], Any]] = [
        (
            response_times,
            proposal.response_times,
            lambda r: {"text": r.text, "hours": r.hours, "purpose": r.purpose},
        ),
        (
            guarantors,
            proposal.guarantors,
            lambda g: {**actor_columns("actor", g.actor), "position": g.position},
        ),
        (
            conditions,
            proposal.conditions,
            lambda c: {"text": c.text, **actor_columns("bound_party", c.bound_party)},
        ),
        (
            excluded_territories,
            proposal.excluded_territories,
            lambda x: {"name": x.name, "text": x.text, "code": x.code},
        ),
        (
            stances,
            proposal.stances,
            lambda x: {
                **actor_columns("speaker", x.speaker),
                **actor_columns("actor", x.actor),
                "stance": x.stance,
            },
        ),
    ]
    for table, items, values in lists:
        for j, item in enumerate(items):
            yield table, {"article_id": article_id, "ordinal": j, **values(item)}, None
            for row in evidence_rows(article_id, f"{table.name}[{j}]", item.evidence):
                yield evidence, row, table.name


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    """The ``events`` row of an event as ``extractor.outputs.grouping.events`` gives it."""

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
    """The ``event_proposals`` row of one report of an event; its id is the same in every
    load and export (the run's id, as the export writes it, and the report)."""
    from .grouping import outlet_of

    article = report.record.article
    run_key = Identity.of(report.record).run_key
    return {
        "id": f"{run_key[:16]}.{report.id}",
        "event_id": event_id,
        "report": report.id,
        "run_key": run_key,
        "article_id": article.id,
        "ordinal": report.index,
        "source": article.source,
        "url": article.url,
        "outlet": outlet_of(report.record),
        "published": report.published,
        "summary": report.proposal.summary,
        "guarantee_type": report.proposal.guarantee_type,
    }
