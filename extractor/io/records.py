"""Records files (JSON Lines of ``ExtractionRecord``, as the extractor writes them) read one way.

- ``read_record_dicts``: each line a JSON object with the parts every reader takes checked
  (the article's source and text, the proposals, the error), else ``PATH:LINE: why; fix``:
  what the scorer reads.
- ``read_records`` (``read_record_lines`` with each line's number and text): those objects
  as records of this schema version, one that is not, or that holds an integer no database
  holds, a one-line error naming the record; for resumption (``skipped`` given), what a
  killed writer left is left out, as ``files.read_jsonl`` does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ..errors import InputError
from ..schemas import SCHEMA_VERSION, ExtractionRecord
from .files import Line, read_jsonl

# What to do about a line that is not a record, ending its message.
FIX = "each line must be one extraction record as written by `extractor`"

# The integers a database column holds (SQLite's INTEGER, PostgreSQL's BIGINT, Parquet's int64).
INTEGERS = range(-(2**63), 2**63)


def _record_dict(line: str) -> dict[str, Any]:
    """A line of a records file, with the parts every reader takes checked.

    Raises:
        ValueError: the line is not JSON, or the part named is missing or malformed.
    """
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("not a JSON object")
    article = record.get("article")
    if not isinstance(article, dict) or not isinstance(article.get("source"), str):
        raise ValueError("missing article.source")
    if not isinstance(article.get("text"), str):
        raise ValueError("missing article.text")
    if not isinstance(record.get("proposals"), list):
        raise ValueError("'proposals' must be a list")
    error = record.get("error")
    if error is not None and not (isinstance(error, dict) and isinstance(error.get("type"), str)):
        raise ValueError('\'error\' must be null or {"type", "message"}')
    return record


def _dict_lines(path: Path) -> list[Line[dict[str, Any]]]:
    return list(read_jsonl(path, _record_dict, fix=FIX))


def read_record_dicts(path: Path) -> list[dict[str, Any]]:
    """Read extraction records from a JSONL file as JSON objects, one record per line; blank
    lines are skipped.

    Args:
        path: The JSONL file the extractor wrote.

    Returns:
        The records in file order.

    Raises:
        InputError: If the file cannot be read or is not UTF-8, or a line is not valid JSON or
            not a record. The message names the file and the line number.
    """
    return [line.value for line in _dict_lines(path)]


def read_records(path: Path) -> list[ExtractionRecord]:
    """The records of a JSONL file, in file order, read strictly (see ``read_record_lines``).

    Raises:
        InputError: as ``read_record_lines``.
    """
    return [line.value for line in read_record_lines(path)]


def read_record_lines(
    path: Path, *, skipped: Callable[[int, str], None] | None = None
) -> list[Line[ExtractionRecord]]:
    """The records of a JSONL file, each with its line, in file order; blank lines are skipped.

    Args:
        path: The JSONL file the extractor wrote.
        skipped: for reading what a killed writer left (resumption): called with the number
            and reason of each line left out (not UTF-8, not a record of this schema version,
            or a last line without its ``"\\n"``) instead of raising.

    Raises:
        InputError: the file cannot be read; or (strict reading) a line is not a record
            (``PATH:LINE: why; fix``), is not a record of this schema version, or holds an
            integer no database holds (both ``PATH: record N ...``, N counting the records).
    """
    if skipped is not None:
        return list(read_jsonl(path, ExtractionRecord.model_validate_json, skipped=skipped))
    return [
        Line(line.number, line.text, _validated(path, count, line.value))
        for count, line in enumerate(_dict_lines(path), start=1)
    ]


def _validated(path: Path, number: int, data: dict[str, Any]) -> ExtractionRecord:
    """Record ``number`` of ``path``, read strictly.

    Raises:
        InputError: it is not a record of this schema version, or holds an integer no
            database holds.
    """
    try:
        record = ExtractionRecord.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(map(str, first["loc"]))
        raise InputError(
            f"{path}: record {number} is not an extraction record of schema version "
            f"{SCHEMA_VERSION} ({first['msg']} at {where}); re-extract it with this version"
        ) from None
    # Refused rather than clamped: usage is at most millions of tokens and offsets at most an
    # article's length, so such a number was written by hand, and a clamp would keep a number
    # nobody wrote.
    past = out_of_range(record)
    if past is not None:
        raise InputError(
            f"{path}: record {number} holds {past[1]:,} at {past[0]}, past the 64-bit "
            "integers a database holds; no extraction makes such a number, so the file was "
            "altered: re-extract that article, or remove its record"
        )
    return record


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


__all__ = [
    "FIX",
    "INTEGERS",
    "out_of_range",
    "read_record_dicts",
    "read_record_lines",
    "read_records",
]
