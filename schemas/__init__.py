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
    GuaranteeType,
    Guarantor,
    MatchKind,
    Party,
    Position,
    Proposal,
    Provenance,
    ResponseTime,
    Stance,
    StanceKind,
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
    "GuaranteeType",
    "Guarantor",
    "GuarantorDraft",
    "MatchKind",
    "Party",
    "Position",
    "Proposal",
    "ProposalDraft",
    "Provenance",
    "ResponseTime",
    "ResponseTimeDraft",
    "Stance",
    "StanceDraft",
    "StanceKind",
    "TerritoryDraft",
    "Usage",
]
