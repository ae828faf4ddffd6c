"""The exported JSON Schema, the draft's grounding validator, and the contract's field names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from extractor.cli import record_schema
from extractor.core.build import validation_context
from extractor.schemas import ArticleDraft, ExtractionRecord

ROOT = Path(__file__).resolve().parent.parent


def test_checked_in_schema_equals_the_generated_one() -> None:
    checked_in = json.loads((ROOT / "schemas" / "record.schema.json").read_text(encoding="utf-8"))
    assert checked_in == record_schema(), (
        "regenerate: extractor schema > schemas/record.schema.json"
    )


def test_record_field_names_are_the_contract() -> None:
    schema = ExtractionRecord.model_json_schema()
    assert list(schema["properties"]) == [
        "schema_version", "article", "proposals", "dropped", "provenance", "error",
    ]  # fmt: skip
    defs = schema["$defs"]
    assert list(defs["Proposal"]["properties"]) == [
        "summary", "proposer", "co_proposers", "beneficiary", "guarantee_type", "legally_binding",
        "guarantors", "response_times", "excluded_territories", "conditions", "stances",
        "evidence",
    ]  # fmt: skip
    assert list(defs["Evidence"]["properties"]) == [
        "quote", "model_quote", "start", "end", "match", "score",
    ]  # fmt: skip
    assert list(defs["Party"]["properties"]) == ["name", "kind", "code", "person", "evidence"]
    assert list(defs["ResponseTime"]["properties"]) == ["text", "hours", "purpose", "evidence"]
    assert list(defs["ExcludedTerritory"]["properties"]) == ["name", "code", "text", "evidence"]
    assert {"url", "outlet"} <= set(defs["Article"]["properties"])
    assert schema["properties"]["schema_version"]["const"] == "4"
    assert list(defs["Usage"]["properties"]) == [
        "prompt_tokens", "completion_tokens", "total_tokens", "requests", "cut_off",
    ]  # fmt: skip
    assert set(defs["Provenance"]["properties"]) >= {
        "model", "base_url", "prompt_version", "extractor_version", "extracted_at", "attempts",
        "usage",
    }  # fmt: skip


def test_draft_validation_names_every_missing_quote() -> None:
    answer = {
        "proposals": [
            {
                "summary": "s",
                "quote": "in the text",
                "guarantors": [{"name": "X", "quote": "nowhere to be seen"}],
            }
        ]
    }
    with pytest.raises(ValidationError) as raised:
        ArticleDraft.model_validate(
            answer, context=validation_context("a quote that is in the text")
        )
    message = str(raised.value)
    assert "1 value(s) are not in the article or not backed by their quotes" in message
    assert (
        'proposals[0].guarantors[0] {"name": "X", "position": "unknown", '
        '"quote": "nowhere to be seen"}: quote not found in the article'
    ) in message
    assert ArticleDraft.model_validate(answer, context={"ground": False}).proposals
    # The article alone, with no check to run, validates the shape only.
    assert ArticleDraft.model_validate(answer, context={"text": "a quote"}).proposals


def test_an_answer_written_for_version_2_still_parses() -> None:
    """A hand-built answer in the draft of schema version 2: one ``response_time`` object."""
    old = {
        "proposals": [
            {
                "summary": "s",
                "quote": "within 72 hours",
                "response_time": {"text": "72 hours", "quote": "within 72 hours"},
            },
            {"summary": "t", "quote": "q", "response_time": None},
        ]
    }
    draft = ArticleDraft.model_validate(old, context={"ground": False})
    first, second = draft.proposals
    assert [(r.text, r.quote, r.purpose) for r in first.response_times] == [
        ("72 hours", "within 72 hours", None)
    ]
    assert second.response_times == []
    # The draft the model is asked to fill has the list, at most four deadlines, and persons.
    properties = ArticleDraft.model_json_schema()["$defs"]["ProposalDraft"]["properties"]
    assert "response_time" not in properties
    assert properties["response_times"]["maxItems"] == 4
    assert {"proposer_person", "beneficiary_person"} <= set(properties)


def test_schema_package_ships_inside_extractor() -> None:
    import extractor.schemas as schemas

    assert schemas.__name__ == "extractor.schemas"
    assert Path(schemas.__file__).parent.name == "schemas"
