"""Pydantic models of the extraction record (the output contract) and of the model-facing drafts.

Installed as ``extractor.schemas``; ``record.schema.json`` beside this file is the JSON Schema
exported from ``ExtractionRecord`` and must equal ``extractor schema`` (a test checks).
"""

from .draft import (
    ArticleDraft,
    ConditionDraft,
    GuarantorDraft,
    ProposalDraft,
    ResponseTimeDraft,
    StanceDraft,
    TerritoryDraft,
)
from .record import (
    SCHEMA_VERSION,
    Actor,
    ActorKind,
    Article,
    Condition,
    Dropped,
    ErrorInfo,
    Evidence,
    ExcludedTerritory,
    ExtractionRecord,
    Guarantor,
    MatchKind,
    Party,
    Proposal,
    Provenance,
    ResponseTime,
    Stance,
    Usage,
)

__all__ = [
    "SCHEMA_VERSION",
    "Actor",
    "ActorKind",
    "Article",
    "ArticleDraft",
    "Condition",
    "ConditionDraft",
    "Dropped",
    "ErrorInfo",
    "Evidence",
    "ExcludedTerritory",
    "ExtractionRecord",
    "Guarantor",
    "GuarantorDraft",
    "MatchKind",
    "Party",
    "Proposal",
    "ProposalDraft",
    "Provenance",
    "ResponseTime",
    "ResponseTimeDraft",
    "Stance",
    "StanceDraft",
    "TerritoryDraft",
    "Usage",
]
