"""Hand-built records for the event tests: short articles whose proposals name the values the
grouping compares, every evidence span found in the article's own text."""

from __future__ import annotations

import hashlib
from typing import Any

from extractor.schemas import ExtractionRecord

PROVENANCE: dict[str, Any] = {
    "model": "hand-built",
    "base_url": "http://127.0.0.1:9/v1",
    "mode": "tools",
    "strategy": "single",
    "prompt_version": "extract-v1",
    "extractor_version": "1",
    "extracted_at": "2026-01-01T00:00:00+00:00",
    "attempts": 1,
    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "requests": 1},
}


def _evidence(text: str, quote: str) -> list[dict[str, Any]]:
    start = text.index(quote)
    return [{"quote": quote, "start": start, "end": start + len(quote), "match": "exact"}]


def _party(text: str, code: str | None, quote: str) -> dict[str, Any] | None:
    """A state named by its code, its evidence the proposal's words."""
    if code is None:
        return None
    return {"name": code, "kind": "state", "code": code, "evidence": _evidence(text, quote)}


def record(
    name: str,
    text: str,
    published: str | None,
    *proposals: dict[str, Any],
    url: str | None = None,
) -> ExtractionRecord:
    """A record of ``text`` (saved as ``name``) with one proposal per spec: ``quote`` (the
    proposal's words), ``proposer``, ``beneficiary``, ``type``, ``guarantors`` as (code, words,
    position) triples, ``deadline`` as (words, hours), ``excluded`` as (name, words)."""
    built = []
    for spec in proposals:
        deadline = spec.get("deadline")
        built.append(
            {
                "summary": spec.get("summary", spec["quote"]),
                "proposer": _party(text, spec.get("proposer"), spec["quote"]),
                "beneficiary": _party(text, spec.get("beneficiary"), spec["quote"]),
                "guarantee_type": spec.get("type", "other"),
                "legally_binding": None,
                "guarantors": [
                    {
                        "actor": {"name": words, "kind": "state", "code": code},
                        "position": position,
                        "evidence": _evidence(text, words),
                    }
                    for code, words, position in spec.get("guarantors", [])
                ],
                "response_times": []
                if deadline is None
                else [
                    {
                        "text": deadline[0],
                        "hours": deadline[1],
                        "purpose": None,
                        "evidence": _evidence(text, deadline[0]),
                    }
                ],
                "excluded_territories": [
                    {
                        "name": territory,
                        "code": None,
                        "text": words,
                        "evidence": _evidence(text, words),
                    }
                    for territory, words in spec.get("excluded", [])
                ],
                "conditions": [],
                "stances": [],
                "evidence": _evidence(text, spec["quote"]),
            }
        )
    return ExtractionRecord.model_validate(
        {
            "article": {
                "id": "sha256:" + hashlib.sha256(text.encode()).hexdigest(),
                "source": name,
                "url": url,
                "title": None,
                "published": published,
                "language": "en",
                "text": text,
            },
            "proposals": built,
            "dropped": [],
            "provenance": PROVENANCE,
            "error": None,
        }
    )


ISTANBUL_WSJ = (
    "Ukraine proposed a neutral status with security guarantees from the United States, "
    "Britain and Turkey, who would have to act within 72 hours. Crimea would be left out. "
    "Britain said it would not give such guarantees."
)
ISTANBUL_RT = (
    "Kiev proposed at the Istanbul talks that the US, the UK and Turkey guarantee a neutral "
    "Ukraine's security; they would respond within three days. The UK is ready to help."
)
ISTANBUL_RU = (
    "Украина предложила нейтральный статус с гарантиями США, Великобритании и Турции; "
    "Крым не входит в договор."
)
QATAR = "Qatar sought a formal American guarantee of its security after the strike on Doha."


def istanbul_records() -> list[ExtractionRecord]:
    """Three reports of one proposal (two English, one Russian) and one unrelated proposal."""
    return [
        record(
            "wsj.txt",
            ISTANBUL_WSJ,
            "2022-03-30",
            {
                "quote": "Ukraine proposed a neutral status with security guarantees",
                "proposer": "UKR",
                "beneficiary": "UKR",
                "type": "neutrality_with_guarantees",
                "guarantors": [
                    ("USA", "the United States", "unknown"),
                    ("GBR", "Britain and Turkey", "willing"),
                    ("TUR", "Turkey", "unknown"),
                ],
                "deadline": ("within 72 hours", 72.0),
                "excluded": [("Crimea", "Crimea")],
            },
            url="https://example.org/wsj",
        ),
        record(
            "rt.txt",
            ISTANBUL_RT,
            "2022-04-01",
            {
                "quote": "Kiev proposed at the Istanbul talks",
                "proposer": "UKR",
                "beneficiary": "UKR",
                "type": "neutrality_with_guarantees",
                "guarantors": [
                    ("USA", "the US", "unknown"),
                    ("GBR", "The UK is ready to help", "willing"),
                    ("TUR", "Turkey", "unknown"),
                ],
                "deadline": ("within three days", 72.0),
            },
        ),
        record(
            "nokta.txt",
            ISTANBUL_RU,
            "2022-03-29",
            {
                "quote": "Украина предложила нейтральный статус",
                "proposer": "UKR",
                "beneficiary": "UKR",
                "type": "neutrality_with_guarantees",
                "guarantors": [
                    ("USA", "США", "unknown"),
                    ("GBR", "Великобритании", "declined"),
                    ("TUR", "Турции", "unknown"),
                ],
                "excluded": [("Crimea", "Крым")],
            },
        ),
        record(
            "economist.txt",
            QATAR,
            "2022-03-30",
            {
                "quote": "Qatar sought a formal American guarantee of its security",
                "proposer": "QAT",
                "beneficiary": "QAT",
                "type": "bilateral_agreements",
                "guarantors": [("USA", "American", "undecided")],
            },
        ),
    ]
