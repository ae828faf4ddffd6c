"""The normalisation data files (``extractor/core/data``): laid out to merge line by line, each read
by ``extractor.core.normalize``, and each entry doing what it says."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from extractor.core import normalize

DATA = Path(normalize.__file__).parent / "data"
# The tables normalize reads (the guarantor model's fitted weights, written by
# scripts/train_guarantors.py and read by extractor.core.guarantor_model, are no table).
MODELS = ("guarantor_weights.json",)
FILES = sorted(path.name for path in DATA.glob("*.json") if path.name not in MODELS)


def _laid_out(value: Any) -> str:
    """A data file as it must be written: one entry per line, sorted."""
    if isinstance(value, dict):
        entries = [
            f"  {json.dumps(key, ensure_ascii=False)}: "
            f"{json.dumps(value[key], ensure_ascii=False, sort_keys=True)}"
            for key in sorted(value)
        ]
        return "{\n" + ",\n".join(entries) + "\n}\n"
    items = [f"  {json.dumps(item, ensure_ascii=False)}" for item in sorted(value)]
    return "[\n" + ",\n".join(items) + "\n]\n"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", FILES)
def test_a_data_file_has_one_entry_per_line_in_order(name: str) -> None:
    text = (DATA / name).read_text(encoding="utf-8")
    assert text == _laid_out(json.loads(text))


def test_every_data_file_is_read_by_normalize() -> None:
    assert FILES == [
        "common_words.json",
        "compound_prefixes.json",
        "function_words.json",
        "head_words.json",
        "numbers.json",
        "organizations.json",
        "paradigms.json",
        "states.json",
        "territories.json",
    ]
    normalize.actor_code("Kyiv")  # the actor tables are built on first use
    before = normalize._data.cache_info()
    for name in FILES:
        normalize._data(name)
    assert normalize._data.cache_info().misses == before.misses  # each was read already


def _forms(spec: str) -> Iterator[str]:
    """Every form a "stem:PARADIGM ..." spec matches (bounded)."""
    paradigms = _load("paradigms.json")
    choices = []
    for token in spec.split():
        stem, _, paradigm = token.partition(":")
        choices.append([stem + ending for ending in paradigms[paradigm]] if paradigm else [stem])
    for words in itertools.islice(itertools.product(*choices), 400):
        yield " ".join(words)


@pytest.mark.parametrize("name", ["states.json", "organizations.json"])
def test_every_name_and_every_declined_form_resolves_to_its_code(name: str) -> None:
    wrong = []
    for code, names in _load(name).items():
        for english in names["en"]:
            if normalize.actor_code(english) != code:
                wrong.append((english, normalize.actor_code(english), code))
        for spec in names["cyrillic"]:
            for form in _forms(spec):
                if normalize.actor_code(form) != code:
                    wrong.append((form, normalize.actor_code(form), code))
        for other in names.get("other", []) + names.get("pl", []):
            if normalize.actor_code(other) != code:
                wrong.append((other, normalize.actor_code(other), code))
    assert wrong == []


def test_every_paradigm_declines_some_name() -> None:
    specs = [
        spec
        for name in ("states.json", "organizations.json")
        for names in _load(name).values()
        for spec in [*names["cyrillic"], *names.get("adjectives", [])]
    ]
    used = {token.partition(":")[2] for spec in specs for token in spec.split()}
    # The soft sign and "-й" paradigms decline the ISO names pycountry gives.
    assert normalize.actor_code("Беларуси") == "BLR"
    assert normalize.actor_code("Китаем") == "CHN"
    # The Polish paradigms decline the Polish names pycountry gives, and the hand tables' ones.
    polish = {
        "PL_A": ("Ukrainie", "UKR"),
        "PL_ADJ_E": ("Stanach Zjednoczonych", "USA"),
        "PL_ADJ_I": ("Sojuszu Północnoatlantyckiego", "NATO"),
        "PL_ADJ_IE": ("Zjednoczonych Emiratach Arabskich", "ARE"),
        "PL_DA": ("Kanadzie", "CAN"),
        "PL_GA": ("Tongi", "TON"),
        "PL_KA": ("Polsce", "POL"),
        "PL_M": ("Izraelem", "ISR"),
        "PL_O": ("Maroka", "MAR"),
        "PL_PL": ("Czechami", "CZE"),
        "PL_RA": ("Andorze", "AND"),
        "PL_SOFT_A": ("Rosji", "RUS"),
        "PL_TA": ("Malcie", "MLT"),
    }
    for form, code in polish.values():
        assert normalize.actor_code(form) == code, form
    assert set(_load("paradigms.json")) == (used - {""}) | {"SOFT", "Y"} | set(polish)


def test_every_form_of_a_state_s_adjective_names_that_state() -> None:
    paradigms = _load("paradigms.json")
    wrong = [
        (stem + ending, code)
        for code, names in _load("states.json").items()
        for spec in names.get("adjectives", [])
        for stem, _, paradigm in [spec.partition(":")]
        for ending in paradigms[paradigm]
        if normalize.actor_code(stem + ending) != code
    ]
    assert wrong == []


def test_a_declined_name_that_is_a_common_word_names_no_state_alone() -> None:
    for word in _load("common_words.json"):
        assert normalize.actor_code(word) is None
        assert normalize.actor_code(word.capitalize()) is None
    assert normalize.actor_code("Гане") == "GHA"  # another form of "Гана" still does


def test_a_head_word_stands_for_the_state_it_follows_or_precedes() -> None:
    words = _load("head_words.json")
    for noun in words["en"]:
        assert normalize.actor_code(f"the US {noun}") == "USA", noun
    for stem in words["cyrillic_stems"]:
        assert normalize.actor_code(f"{stem} Украины") == "UKR", stem


def test_a_group_head_stands_for_the_organisation_or_state_it_opens_or_closes() -> None:
    words = _load("head_words.json")
    for noun in words["en_groups"]:
        assert normalize.actor_code(f"NATO {noun}") == "NATO", noun
    for phrase in words["en_leading"]:
        assert normalize.actor_code(f"{phrase} of the EU") == "EU", phrase
    for stem in words["group_stems"]:
        assert normalize.actor_code(f"{stem} НАТО") == "NATO", stem  # noqa: RUF001
    for modifier in words["modifiers"]:
        assert normalize.actor_code(f"{modifier} members of NATO") == "NATO", modifier
    for connector in words["connectors"]:
        assert normalize.actor_code(f"members {connector} NATO") == "NATO", connector
    # A text's own phrase is read as its name: the group words are for a model's names.
    assert normalize.named_actors("members of NATO met") == {"NATO": "NATO"}


def test_every_function_word_unglued_from_a_name_leaves_the_name() -> None:
    for language, words in _load("function_words.json").items():
        name = "Polska" if language in ("en", "pl") else "США"
        for word in words:
            assert normalize.unglue(f"{word}{name}") == f"{word} {name}", (language, word)


def test_every_number_word_gives_its_value() -> None:
    for word, value in _load("numbers.json").items():
        unit = "hours" if word.isascii() else "часов"
        assert normalize.parse_hours(f"within {word} {unit}") == value, word


def test_every_compound_prefix_gives_its_value() -> None:
    for stem, value in _load("compound_prefixes.json").items():
        assert normalize.parse_hours(f"{stem}часовой срок") == value, stem


def test_every_territory_is_its_own_canonical_name_with_its_code() -> None:
    for name, territory in _load("territories.json").items():
        assert normalize.canonical_territory(name) == name
        assert normalize.territory_code(name) == territory["code"]
        assert normalize.territories_named(f"excluding {name}") == {name}


def test_the_only_other_data_file_is_the_guarantor_models_weights() -> None:
    from extractor.core import guarantor_model

    assert sorted(path.name for path in DATA.glob("*.json") if path.name in MODELS) == list(MODELS)
    assert guarantor_model.WEIGHTS == DATA / "guarantor_weights.json"
    assert set(json.loads(guarantor_model.WEIGHTS.read_text(encoding="utf-8"))) >= {"plain"}
