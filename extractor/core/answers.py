"""What one model request produced and what an article's requests cost (plain data, no I/O).

The engine (``extractor.model.client``) fills these; strategies conclude records from them without
knowing how the answers were obtained (online, from a batch file, on a cluster).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

__all__ = ["Meter", "Outcome"]

M = TypeVar("M", bound=BaseModel)


@dataclass
class Meter:
    """Requests and tokens spent on one article, every attempt included.

    ``retries`` (transport) and ``reasks`` (validation, or an answer cut off asked again with
    a larger budget) all draw on ``retry_budget``, the extra requests the article may still
    make; ``seconds`` is the time spent waiting on HTTP. ``cut_off`` counts the answers the
    server ended at max_tokens, and ``kept_cut`` those of them kept as they were (no budget
    left to ask again, or asked at the most already).
    """

    requests: int = 0
    responses: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    retries: int = 0
    reasks: int = 0
    retry_budget: int = 0
    seconds: float = 0.0
    cut_off: int = 0
    kept_cut: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass
class Outcome(Generic[M]):
    """What the model produced for one article.

    ``draft`` passed grounding validation when ``grounded`` is true. Otherwise it is the last
    answer, parsed for shape only (``problem`` says why it was not accepted as it stood: re-asks
    exhausted, or cut off at max_tokens), and ``pruned`` lists the items of that answer that did
    not even have the schema's shape, as (path in the answer, value).
    """

    draft: M
    grounded: bool
    meter: Meter
    problem: str | None = None
    pruned: list[tuple[str, Any]] = field(default_factory=list)
