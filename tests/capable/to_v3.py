"""How ``answers/`` was made from ``answers-v2/``: each answer as the same model would give it to
version 3 of the draft schema, changed mechanically and nothing added (README here).

- Where an answer gave a person as proposer, ``proposer`` becomes the state or organisation the
  answer's own words name for that person (in the proposer, its quote, the summary, or a stance
  of the same answer coding that speaker), ``None`` where they name none, and
  ``proposer_person`` the person as the answer names them, without a title. The table below is
  every such case, each with the words it rests on.
- No answer gave a person as beneficiary: ``beneficiary_person`` is ``None`` throughout.
- A single ``response_time`` becomes a one-element ``response_times`` list (its ``purpose``
  ``None``: no answer said it apart from the quote), and none an empty list.

Run from the repository root: ``python tests/capable/to_v3.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "answers-v2"
TARGET = HERE / "answers"

# (article, proposal index) -> (proposer, proposer_person)
PERSONS: dict[tuple[str, int], tuple[str | None, str]] = {
    # "President Zelensky": the answer names no state for him.
    ("004_9bf3a37e56b865ab.txt", 2): (None, "Zelensky"),
    # "Political scientist Igor Chalenko": no state.
    ("004_9bf3a37e56b865ab.txt", 3): (None, "Igor Chalenko"),
    # "Zelensky wanted NATO membership": no state named for him.
    ("h06.txt", 1): (None, "Zelensky"),
    # The same answer's stance: speaker "Trump", actor "the US".
    ("h06.txt", 2): ("the US", "Trump"),
    # "Trump's envoy Steve Witkoff": a person's envoy, no state named.
    ("h08.txt", 0): (None, "Steve Witkoff"),
    # "Sergei Lavrov, Russia's foreign minister".
    ("h08.txt", 1): ("Russia", "Sergei Lavrov"),
    # "президент Украины Владимир Зеленский".
    ("h2-02.txt", 0): ("Украина", "Владимир Зеленский"),
    # "Лидер Приднестровья Вадим Красносельский".
    ("h2-03.txt", 0): ("Приднестровье", "Вадим Красносельский"),
    # "вице-спикер Парламента Республики Молдова, председатель фракции БКС Влад Батрынча".
    ("h2-05.txt", 0): ("Республика Молдова", "Влад Батрынча"),
    # "Sir Keir and President Emmanuel Macron of France", "UK Prime Minister Sir Keir Starmer".
    ("h2-07.txt", 0): ("the UK and France", "Sir Keir and Emmanuel Macron"),
    # "Ukraine's Volodymyr Zelensky".
    ("h2-12.txt", 0): ("Ukraine", "Volodymyr Zelensky"),
    # "Ukraine's President Volodymyr Zelensky".
    ("h2-14.txt", 0): ("Ukraine", "Volodymyr Zelensky"),
}


def version_3(article: str, index: int, proposal: dict[str, Any]) -> dict[str, Any]:
    """One proposal of a version 2 answer as a version 3 answer gives it (keys in draft order)."""
    person = PERSONS.get((article, index))
    out: dict[str, Any] = {}
    for key, value in proposal.items():
        if key == "proposer":
            out[key] = person[0] if person else value
        elif key == "proposer_quote":
            out[key] = value
            out["proposer_person"] = person[1] if person else None
        elif key == "beneficiary_quote":
            out[key] = value
            out["beneficiary_person"] = None
        elif key == "response_time":
            out["response_times"] = [] if value is None else [{**value, "purpose": None}]
        else:
            out[key] = value
    return out


def main() -> None:
    TARGET.mkdir(exist_ok=True)
    for path in sorted(SOURCE.glob("*.json")):
        article = path.name.removesuffix(".json")
        answer = json.loads(path.read_text(encoding="utf-8"))
        answer["proposals"] = [
            version_3(article, index, proposal)
            for index, proposal in enumerate(answer["proposals"])
        ]
        (TARGET / path.name).write_text(json.dumps(answer, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
