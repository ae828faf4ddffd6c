"""The record cache: one finished record per article and extraction settings, on disk, so a
re-run, a resumed run or a second sink costs no tokens.

The store is diskcache's (SQLite transactions, so concurrent writers and a killed process never
leave a half-written entry; faster to write than a file per entry, which needed an fsync each).
An entry is the record's JSON text under the hash of its key. Only records without an error are
stored, and an entry is served only for the article it was made from, its text checked against
the id. The entry keys the extraction only: the runner gives a record served from it the
input's own article metadata (source, title, date, url).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import diskcache
from pydantic import ValidationError

from .. import strategies
from ..core import prompting
from ..io.articles import text_id
from ..schemas import ExtractionRecord
from .method import RunMethod


def key(article_id: str, run: RunMethod) -> str:
    """The entry of the record ``run`` makes of article ``article_id``: the record's identity
    (``identity``) and what changes the answer but no record states, the digest of the
    prompt's templates, temperature, max_tokens, seed and re-asks."""
    identity = run.identity(article_id)
    method = identity.method
    settings = run.settings
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


class _TextOnly(diskcache.Disk):  # type: ignore[misc]
    """diskcache's storage, serving text entries only: an entry stored pickled (by anything
    but this cache, which stores JSON text) is refused rather than unpickled, so a cache
    folder someone else can write cannot run code in the extractor."""

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode == diskcache.core.MODE_PICKLE:
            raise _Refused
        return super().fetch(mode, filename, value, read)


class _Refused(Exception):
    """An entry this cache does not serve (see ``_TextOnly``)."""


class RecordCache:
    """Records by key under ``directory`` (created on first write), in a diskcache store: one
    SQLite database (write-ahead log) beside files for the largest entries, safe for several
    processes and threads at once, nothing evicted.

    An entry is the record's JSON text; it is served only when it parses as a record of the
    article asked for, with no error. A store that cannot be opened or written (no
    permission, a full disk) does not stop the run: reads find nothing, and the reason is kept
    in ``write_error`` for the run summary.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.hits = 0
        self.writes = 0
        self.write_error: str | None = None
        self._store: diskcache.Cache | None = None

    def _open(self, create: bool) -> diskcache.Cache | None:
        if self._store is None and (create or self.directory.is_dir()):
            self._store = diskcache.Cache(
                str(self.directory), disk=_TextOnly, eviction_policy="none", statistics=False
            )
        return self._store

    def get(self, key: str, article_id: str) -> ExtractionRecord | None:
        """The stored record of article ``article_id``, or None; an unreadable or outdated
        entry, or one holding another article's record or a text whose hash is not
        ``article_id`` (a copied or tampered file), counts as absent."""
        try:
            store = self._open(create=False)
            raw = store.get(key) if store is not None else None
        except (OSError, sqlite3.Error, _Refused):
            return None
        if not isinstance(raw, str):
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
        try:
            store = self._open(create=True)
            assert store is not None  # created when asked to
            store.set(key, record.model_dump_json())
        except (OSError, sqlite3.Error) as exc:
            self.write_error = f"{self.directory}: {getattr(exc, 'strerror', None) or exc}"
            return
        self.writes += 1

    def close(self) -> None:
        """Close the store's database connections (a later call opens it again)."""
        if self._store is not None:
            self._store.close()
            self._store = None
