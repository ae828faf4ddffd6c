"""Prompt rendering is pure and versioned."""

from __future__ import annotations

import pytest

from extractor.core.prompting import render
from extractor.errors import ConfigError


def test_article_is_inserted_verbatim_even_with_dollar_signs() -> None:
    text = "Cost: $5 billion, ${not a placeholder}. «Кавычки»\n\nSecond paragraph."
    system, user = render("extract-v1", text)
    assert system["role"] == "system" and "word for word" in system["content"]
    assert user["role"] == "user"
    assert text in user["content"]


def test_rendering_is_deterministic() -> None:
    assert render("extract-v1", "x") == render("extract-v1", "x")


def test_unknown_version_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="available: extract-v1"):
        render("extract-v0", "x")
