"""The record cache: one finished record per article and extraction settings, on disk, so a
re-run, a resumed run or a second sink costs no tokens.

An entry is a JSON file named by the hash of its key, written atomically
(``files.replacing``), so concurrent writers and a killed process never leave a half-written
entry (and a full disk no temporary file). Only records without an error are stored, and an
entry is served only for the article it was made from, its text checked against the id. The
entry keys the extraction only: the runner gives a record served from it the input's own
article metadata (source, title, date, url).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pydantic import ValidationError

from . import pipeline, prompting, strategies
from .articles import text_id
from .config import Settings
from .files import replacing
from .schemas import ExtractionRecord


def key(article_id: str, settings: Settings) -> str:
    """The entry of the record ``settings`` make of article ``article_id``: the record's
    identity (``identity``) and what changes the answer but no record states, the digest of
    the prompt's templates, temperature, max_tokens, seed and re-asks."""
    identity = pipeline.identity_of(settings, article_id)
    method = identity.method
    parts = {
        "article": identity.article,
        "schema": identity.schema,
        "prompt": method.prompt_version,
        "prompt_digest": prompting.digest(method.prompt_version)
        if method.prompt_version != strategies.NO_PROMPT
        else "",
        "strategy": method.strategy,
        "model": method.model,
        "mode": method.mode,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "seed": settings.seed,
        "max_reasks": settings.retry.max_reasks,
        "extractor": identity.extractor,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class RecordCache:
    """Records by key under ``directory`` (created on first write)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.writes = 0
        self.write_error: str | None = None

    def _path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def get(self, key: str, article_id: str) -> ExtractionRecord | None:
        """The stored record of article ``article_id``, or None; an unreadable or outdated
        entry, or one holding another article's record or a text whose hash is not
        ``article_id`` (a copied or tampered file), counts as absent."""
        try:
            raw = self._path(key).read_bytes()
        except OSError:
            return None
        try:
            record = ExtractionRecord.model_validate_json(raw)
        except ValidationError:
            return None
        if record.article.id != article_id or record.error is not None:
            return None
        # The id alone is not enough: an entry whose text was altered (its id kept) would give
        # the run another text than the input's, and evidence offsets into that text.
        if text_id(record.article.text) != article_id:
            return None
        self.hits += 1
        return record

    def put(self, key: str, record: ExtractionRecord) -> None:
        """Store an error-free record. A cache that cannot be written does not stop the run:
        the reason is kept in ``write_error`` for the run summary."""
        if record.error is not None:
            return
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with replacing(path) as out:
                out.write(record.model_dump_json())
        except OSError as exc:
            self.write_error = f"{self.directory}: {exc.strerror or exc}"
            return
        self.writes += 1
