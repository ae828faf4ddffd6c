"""Tests for extractor.core.grounding: locating verbatim quotes in article text."""

# Curly quotes, exotic dashes and Cyrillic letters that look Latin are exactly what these tests
# feed the matcher, so the "ambiguous character" lint is off for this file.
# ruff: noqa: RUF001

from __future__ import annotations

import dataclasses
import random

import pytest

from extractor.core.grounding import (
    FUZZY_THRESHOLD,
    MIN_QUOTE_CHARS,
    Span,
    locate,
    normalize_for_match,
    on_word_boundaries,
)

# Characters whose NFKC/casefold form has a different length: placed before a match they shift
# every later offset of the normalised text, which is what the offset map must undo.
LENGTH_CHANGING_PREFIX = "Die Straße ist ﬁnal… № 5. "

ENGLISH = (
    "Kyiv, 3 March. The foreign minister said on Monday that the allies had agreed to provide "
    "security guarantees to Ukraine within the framework of a new treaty. Officials added that "
    "the guarantees would be binding and ratified by parliament before the end of the year."
)

RUSSIAN = (
    "Москва, 3 марта. Министр иностранных дел заявил в понедельник, что союзники согласились "
    "предоставить Украине гарантии безопасности в рамках нового договора. Чиновники добавили, "
    "что гарантии будут юридически обязывающими."
)


def spanned(text: str, span: Span | None) -> str:
    """The original characters a span covers; fails the test when nothing was found."""
    assert span is not None
    return text[span.start : span.end]


# --- exact tier ---------------------------------------------------------------------------------


def test_exact_hit() -> None:
    quote = "agreed to provide security guarantees to Ukraine"
    span = locate(quote, ENGLISH)
    assert span == Span(ENGLISH.index(quote), ENGLISH.index(quote) + len(quote), "exact", 100.0)


def test_exact_returns_first_occurrence() -> None:
    text = "He said yes. Then she said yes. Then they said yes."
    span = locate("said yes", text)
    assert span is not None
    assert span.start == text.index("said yes")
    assert span.match == "exact"


def test_exact_ignores_whitespace_around_quote() -> None:
    span = locate("  binding and ratified by parliament \n", ENGLISH)
    assert span is not None
    assert span.match == "exact"
    assert spanned(ENGLISH, span) == "binding and ratified by parliament"


def test_exact_after_length_changing_characters() -> None:
    text = LENGTH_CHANGING_PREFIX + ENGLISH
    span = locate("the allies had agreed", text)
    assert span is not None
    assert span.match == "exact"
    assert spanned(text, span) == "the allies had agreed"


# --- normalised tier ----------------------------------------------------------------------------


def test_curly_quotes_in_text_match_straight_quotes_in_quote() -> None:
    text = "The minister called it “a historic step” for ‘everyone’ involved."
    span = locate("called it \"a historic step\" for 'everyone' involved", text)
    assert span is not None
    assert span.match == "normalized"
    assert span.score == 100.0
    assert spanned(text, span) == "called it “a historic step” for ‘everyone’ involved"


def test_guillemets_and_low_quotes_in_quote_match_straight_quotes_in_text() -> None:
    text = "He said \"no troops\" and 'no bases' would be sent."
    span = locate("said «no troops» and ‚no bases‘ would", text)
    assert spanned(text, span) == "said \"no troops\" and 'no bases' would"


def test_em_dash_in_text_matches_hyphen_in_quote() -> None:
    text = "The deal — signed in Paris — covers air defence."
    span = locate("deal - signed in Paris - covers", text)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(text, span) == "deal — signed in Paris — covers"


@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2015", "\u2212"])
def test_every_dash_matches_a_hyphen(dash: str) -> None:
    text = f"A long{dash}term commitment."
    assert spanned(text, locate("long-term commitment", text)) == f"long{dash}term commitment"


def test_newlines_tabs_nbsp_and_runs_of_spaces_in_text_match_single_spaces() -> None:
    text = "The allies\nhad   agreed\tto\u00a0provide\r\n\r\nguarantees."
    span = locate("the allies had agreed to provide guarantees", text)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(text, span) == "The allies\nhad   agreed\tto\u00a0provide\r\n\r\nguarantees"


def test_different_case_matches() -> None:
    span = locate("THE FOREIGN MINISTER SAID ON MONDAY", ENGLISH)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(ENGLISH, span) == "The foreign minister said on Monday"


@pytest.mark.parametrize(
    "quote",
    [
        '"the guarantees would be binding."',
        "“the guarantees would be binding”.",
        "'the guarantees would be binding';",
        "«the guarantees would be binding»,",
        "the guarantees would be binding:",
    ],
)
def test_surrounding_quote_marks_and_trailing_punctuation_are_ignored(quote: str) -> None:
    span = locate(quote, ENGLISH)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(ENGLISH, span) == "the guarantees would be binding"


@pytest.mark.parametrize("ellipsis", ["...", "…", " ... ", " [...] ", "…."])
def test_ellipsis_joins_parts_found_in_order(ellipsis: str) -> None:
    quote = f"the allies had agreed{ellipsis}within the framework of a new treaty"
    span = locate(quote, ENGLISH)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(ENGLISH, span) == (
        "the allies had agreed to provide security guarantees to Ukraine "
        "within the framework of a new treaty"
    )


def test_ellipsis_parts_out_of_order_are_not_found() -> None:
    quote = "within the framework of a new treaty ... the allies had agreed"
    assert locate(quote, ENGLISH) is None


def test_ellipsis_span_starts_at_the_occurrence_closest_to_the_next_part() -> None:
    text = "Officials said little. Later officials said the treaty was ready."
    span = locate("officials said … the treaty was ready", text)
    assert spanned(text, span) == "officials said the treaty was ready"


def test_normalized_offsets_survive_length_changing_characters_before_the_match() -> None:
    text = LENGTH_CHANGING_PREFIX + ENGLISH
    span = locate("THE ALLIES HAD AGREED", text)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(text, span) == "the allies had agreed"


def test_normalized_match_covering_length_changing_characters() -> None:
    text = "Er sagte: die STRASSE ist ﬁnal gesperrt."
    span = locate("Die Straße ist final", text)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(text, span) == "die STRASSE ist ﬁnal"


def test_decomposed_accents_in_text_match_precomposed_quote() -> None:
    text = "Le ministre a parle\u0301 de se\u0301curite\u0301 collective."
    span = locate("parlé de sécurité collective", text)
    assert spanned(text, span) == "parle\u0301 de se\u0301curite\u0301 collective"


def test_soft_hyphen_inside_a_word_is_ignored() -> None:
    text = "They signed the guar\u00adantee yesterday."
    assert spanned(text, locate("the guarantee yesterday", text)) == "the guar\u00adantee yesterday"


# --- fuzzy tier ---------------------------------------------------------------------------------


def test_fuzzy_accepts_a_changed_word_ending() -> None:
    quote = "the allies had agreed to provided security guarantees to Ukraine"
    span = locate(quote, ENGLISH)
    assert span is not None
    assert span.match == "fuzzy"
    assert FUZZY_THRESHOLD <= span.score < 100.0
    assert (
        spanned(ENGLISH, span) == "the allies had agreed to provide security guarantees to Ukraine"
    )


def test_fuzzy_accepts_a_dropped_article() -> None:
    quote = (
        "allies had agreed to provide security guarantees to Ukraine within framework of a new "
        "treaty"
    )
    span = locate(quote, ENGLISH)
    assert span is not None
    assert span.match == "fuzzy"
    assert spanned(ENGLISH, span) == (
        "allies had agreed to provide security guarantees to Ukraine within the framework of a "
        "new treaty"
    )


def test_fuzzy_offsets_survive_length_changing_characters_before_the_match() -> None:
    text = LENGTH_CHANGING_PREFIX + ENGLISH
    span = locate("the foreign minister sayd on Monday that the allies", text)
    assert span is not None
    assert span.match == "fuzzy"
    assert spanned(text, span) == "The foreign minister said on Monday that the allies"


def test_paraphrase_is_rejected() -> None:
    quote = "partners promised Kyiv safety assurances under a fresh agreement"
    assert locate(quote, ENGLISH) is None


def test_short_quote_is_never_matched_fuzzily() -> None:
    quote = "tretay"  # a typo of "treaty", shorter than MIN_QUOTE_CHARS
    assert len(normalize_for_match(quote)) < MIN_QUOTE_CHARS
    assert locate(quote, ENGLISH, threshold=0.0) is None


def test_threshold_controls_fuzzy_acceptance() -> None:
    quote = "the foreign minister sayd on Monday"
    assert locate(quote, ENGLISH) is not None
    assert locate(quote, ENGLISH, threshold=100.0) is None


@pytest.mark.parametrize("threshold", [-1.0, 100.5])
def test_threshold_outside_the_score_range_raises(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        locate("anything at all", ENGLISH, threshold=threshold)


def test_fuzzy_span_has_no_surrounding_whitespace() -> None:
    text = "Intro.   The  allies   had agreed   to provide guarantees.   Outro."
    span = locate("the allies has agreed to provide guarantees", text)
    assert span is not None
    assert span.match == "fuzzy"
    covered = spanned(text, span)
    assert covered == covered.strip()
    assert covered.startswith("The  allies")


# --- Cyrillic -----------------------------------------------------------------------------------


def test_cyrillic_exact() -> None:
    quote = "союзники согласились предоставить Украине гарантии безопасности"
    span = locate(quote, RUSSIAN)
    assert span is not None
    assert span.match == "exact"
    assert spanned(RUSSIAN, span) == quote


def test_cyrillic_normalized_case_quotes_and_whitespace() -> None:
    text = "Он назвал это «историческим\u00a0шагом»\nдля Европы."
    span = locate('"ИСТОРИЧЕСКИМ ШАГОМ" для Европы.', text)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(text, span) == "историческим\u00a0шагом»\nдля Европы"


def test_cyrillic_yo_matches_ye() -> None:
    text = "Всё решено, заявил он."
    span = locate("Все решено", text)
    assert span is not None
    assert span.match == "normalized"
    assert spanned(text, span) == "Всё решено"


def test_cyrillic_fuzzy_changed_word_ending() -> None:
    quote = "союзники согласились предоставить Украине гарантию безопасности"
    span = locate(quote, RUSSIAN)
    assert span is not None
    assert span.match == "fuzzy"
    assert span.score >= FUZZY_THRESHOLD
    assert spanned(RUSSIAN, span) == (
        "союзники согласились предоставить Украине гарантии безопасности"
    )


def test_cyrillic_fuzzy_dropped_comma() -> None:
    span = locate("Министр иностранных дел заявил в понедельник что союзники согласились", RUSSIAN)
    assert span is not None
    assert span.match == "fuzzy"
    assert spanned(RUSSIAN, span) == (
        "Министр иностранных дел заявил в понедельник, что союзники согласились"
    )


def test_cyrillic_paraphrase_is_rejected() -> None:
    assert locate("партнёры пообещали Киеву защиту по новому соглашению", RUSSIAN) is None


# --- nothing to find ----------------------------------------------------------------------------


@pytest.mark.parametrize("quote", ["", "   ", "\n\t\u00a0", '""', "«…»", "..."])
def test_empty_quote_returns_none(quote: str) -> None:
    assert locate(quote, ENGLISH) is None


def test_quote_longer_than_text_returns_none() -> None:
    text = "security guarantees"
    assert locate("security guarantees for Ukraine were agreed", text) is None


def test_empty_text_returns_none() -> None:
    assert locate("security guarantees", "") is None


# --- normalize_for_match ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('“A” „b“ «c» ‹d› ″e″ "f"', '"a" "b" "c" \'d\' "e" "f"'),
        ("‘a’ ‚b‘ ′c′ `d´ 'e'", "'a' 'b' 'c' 'd' 'e'"),
        ("a‐b‑c‒d–e—f―g−h-i", "a-b-c-d-e-f-g-h-i"),
        ("  a \n\t b\u00a0\u2009c  ", "a b c"),
        ("Straße ﬁnal", "strasse final"),
        ("Гарантии ЁЛКА", "гарантии елка"),
        ("end…", "end..."),
        ("e\u0301", "é"),
        ("", ""),
    ],
)
def test_normalize_for_match(raw: str, expected: str) -> None:
    assert normalize_for_match(raw) == expected


# --- misc ---------------------------------------------------------------------------------------


def test_span_is_frozen() -> None:
    span = Span(0, 1, "exact", 100.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        span.start = 2  # type: ignore[misc]


def _long_article() -> str:
    rng = random.Random(7)
    sentences = [ENGLISH, RUSSIAN, LENGTH_CHANGING_PREFIX, "Officials — again — said “yes”.\n\n"]
    parts: list[str] = []
    while sum(len(p) + 1 for p in parts) < 12_000:
        parts.append(rng.choice(sentences))
    return " ".join(parts)[:12_000]


def test_twelve_thousand_character_article_in_every_tier() -> None:
    text = _long_article()
    assert len(text) == 12_000
    original = text[6_000:6_200].strip()
    # Shift the slice to word boundaries so the variants below stay meaningful.
    original = original[original.index(" ") + 1 : original.rindex(" ")]
    exact = locate(original, text)
    assert exact is not None
    assert exact.match == "exact"
    assert spanned(text, exact) == original

    normalized = locate(original.upper(), text)
    assert normalized is not None
    assert normalized.match == "normalized"
    assert normalize_for_match(spanned(text, normalized)) == normalize_for_match(original)

    middle = len(original) // 2
    typo = original[:middle] + "#" + original[middle + 1 :]
    fuzzy = locate(typo, text)
    assert fuzzy is not None
    assert fuzzy.match == "fuzzy"

    assert locate("a sentence that appears nowhere in this long article at all", text) is None


def test_randomised_substrings_are_found_with_equal_normalised_content() -> None:
    # A seeded stand-in for a property test: any run of whole words from the text, rewritten
    # in ways normalisation must undo, is found and the span normalises to the same content.
    rng = random.Random(2024)
    words = ["Straße", "ﬁnal", "гарантии", "Безопасности", "Ёлка", "NATO", "peace", "été",
             "e\u0301te\u0301", "treaty", "Kyiv", "Москва", "“yes”", "long—term"]  # fmt: skip
    separators = [" ", "  ", "\n", "\u00a0", "\t", " \r\n "]
    for _ in range(200):
        tokens = [rng.choice(words) for _ in range(rng.randint(3, 25))]
        text = tokens[0]
        for token in tokens[1:]:
            text += rng.choice(separators) + token
        first = rng.randrange(len(tokens))
        last = rng.randrange(first, len(tokens))
        quote = " ".join(tokens[first : last + 1])
        if rng.random() < 0.5:
            quote = quote.upper()
        quote = quote.replace("—", "-").replace("“", '"').replace("”", '"')
        span = locate(quote, text)
        assert span is not None, (quote, text)
        assert span.match in ("exact", "normalized")
        covered = spanned(text, span)
        assert covered == covered.strip()
        # The quote's own surrounding quote marks are not part of what it must match.
        assert normalize_for_match(covered).strip('"') == normalize_for_match(quote).strip('"')


# ---------------------------------------------------------------------------------------------
# Word boundaries
# ---------------------------------------------------------------------------------------------

BOUNDARY_TEXT = (
    "The status of the talks: Ukraine wants guarantees; the Russian delegation left. "
    "Later the US and the UK agreed."
)


def test_a_short_name_is_found_as_a_word_not_inside_an_earlier_word() -> None:
    # "US" first occurs inside "status", "UK" inside "Ukraine": the spans are the words.
    for quote in ("US", "UK"):
        span = locate(quote, BOUNDARY_TEXT)
        assert span is not None and span.match == "exact"
        assert BOUNDARY_TEXT[span.start : span.end] == quote
        assert span.start > BOUNDARY_TEXT.index("Later")


def test_a_quote_found_only_inside_a_word_is_widened_to_the_whole_word() -> None:
    span = locate("Russia", BOUNDARY_TEXT)
    assert span is not None and span.match == "widened"
    assert BOUNDARY_TEXT[span.start : span.end] == "Russian"
    span = locate("atu", BOUNDARY_TEXT)
    assert span is not None and BOUNDARY_TEXT[span.start : span.end] == "status"


def test_a_normalised_match_also_keeps_to_word_boundaries() -> None:
    span = locate("THE  UK", BOUNDARY_TEXT)
    assert span is not None and span.match == "normalized"
    assert BOUNDARY_TEXT[span.start : span.end] == "the UK"


def test_a_fuzzy_window_is_widened_to_whole_words() -> None:
    text = "Kyiv insists that guarantees must be legally binding and ratified by parliaments."
    span = locate("guarantee must be legaly binding and ratifie", text)
    assert span is not None and span.match == "fuzzy"
    assert on_word_boundaries(text, span.start, span.end)
    assert text[span.start : span.end].startswith("guarantees must")
    assert text[span.start : span.end].endswith("ratified")


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [(4, 10, True), (5, 10, False), (4, 9, False), (0, 3, True), (97, 103, True)],
)
def test_on_word_boundaries(start: int, end: int, expected: bool) -> None:
    assert on_word_boundaries(BOUNDARY_TEXT, start, end) is expected
