"""What makes two records the same work, decided once.

A record is identified by

    article     the content hash of the article's text (``article.id``)
    schema      the schema version of the record
    model       the model asked (``none`` for a strategy that asks none)
    mode        how its structured output was asked for
    strategy    the concrete strategy (``auto`` resolved)
    prompt      the prompt version
    extractor   the extractor's version

Every part stands in the record itself (``provenance``, ``schema_version``), so a record read
back from a file or a database says what work it is without the settings that made it. Left
out on purpose: the article's source (the same text under another name is the same work) and
the server's URL (the embedded server's port changes from run to run).

Three places key on it:

- the runner's resumption keeps a record of an earlier run for an input when the record's
  identity is the one the run would make and its source is the input's
  (``RunMethod.identity`` gives the run's);
- the database's ``extraction_runs.run_key`` is the identity less the article (``run_key``):
  the records of one model, mode, strategy, prompt, schema and extractor version are one run;
- the record cache (``cache.key``) adds what changes a model's answers but no record states:
  the digest of the prompt's templates, temperature, max_tokens, seed and re-asks. The cache
  serves records across outputs and commands, where those may differ.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..schemas import ExtractionRecord


@dataclass(frozen=True)
class Method:
    """How a record is made, as far as the settings decide it: the model and mode asked, the
    concrete strategy (``auto`` resolved) and the prompt version it asks with."""

    model: str
    mode: str
    strategy: str
    prompt_version: str


@dataclass(frozen=True)
class Identity:
    """The work a record is (see the module's docstring)."""

    article: str
    schema: str
    method: Method
    extractor: str

    @classmethod
    def of(cls, record: ExtractionRecord) -> Identity:
        """The identity a record states."""
        p = record.provenance
        return cls(
            article=record.article.id,
            schema=record.schema_version,
            method=Method(p.model, p.mode, p.strategy, p.prompt_version),
            extractor=p.extractor_version,
        )

    @property
    def run_key(self) -> str:
        """The identity less the article, hashed: the database's ``run_key``.

        Computed as in every earlier version, so rows already loaded keep their keys and a
        record loaded again is found, not added.
        """
        m = self.method
        parts = [m.model, m.mode, m.strategy, m.prompt_version, self.extractor, self.schema]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


__all__ = ["Identity", "Method"]
