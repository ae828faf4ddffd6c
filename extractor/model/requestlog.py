"""One log line per model request, as JSON: what a user reads to find why an article was slow,
costly or empty.

The engine logs every HTTP request it makes to the logger ``extractor.requests`` at INFO, with
the event as the record's ``request`` attribute (a :class:`RequestEvent`). Nothing is built
unless a handler listens: ``extractor extract --log-json FILE`` attaches :class:`JsonLines` for
the run, and a Python program does the same with :func:`to_file`, or attaches any handler of its
own to :data:`logger` at level INFO.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from ..errors import ConfigError

__all__ = ["JsonLines", "RequestEvent", "logger", "to_file"]

logger = logging.getLogger("extractor.requests")
# Kept off the root logger's handlers: request lines are data, not messages for stderr.
logger.propagate = False

Kind = Literal["first", "retry", "reask"]


@dataclass(frozen=True)
class RequestEvent:
    """One HTTP request to the model server and how it ended.

    Attributes:
        article: the article's id (``sha256:...``), or ``""`` outside an article.
        step: which request of the strategy's plan it serves (e.g. ``guarantors#2``: the
            guarantor question about chunk 2), or ``""``.
        attempt: the request's number within its step, 1 for the first.
        kind: ``first``, a transport ``retry``, or a ``reask`` after an invalid answer.
        reason: why a retry or re-ask was made (the failure or the validation error), else ``""``.
        status: the HTTP status, or ``timeout`` / ``connection`` / an error name when none came.
        prompt_tokens, completion_tokens: as the server reported them (0 when it did not answer).
        latency_ms: from sending the request to reading the answer.
    """

    article: str
    step: str
    attempt: int
    kind: Kind
    reason: str
    status: str
    prompt_tokens: int
    completion_tokens: int
    latency_ms: float


class JsonLines(logging.Handler):
    """Appends each request event to a file as one JSON object per line, with its time."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(level=logging.INFO)
        self.path = Path(path)
        self._file = self.path.open("a", encoding="utf-8")
        self._write = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "request", None)
        if not isinstance(event, RequestEvent):
            return
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            **asdict(event),
        }
        with self._write:
            self._file.write(json.dumps(line, ensure_ascii=False) + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._write:
            if not self._file.closed:
                self._file.close()
        super().close()


@contextmanager
def to_file(path: str | Path) -> Iterator[JsonLines]:
    """Append every request event to ``path`` (JSON lines) while the block runs.

    Raises:
        ConfigError: the file cannot be opened for appending.
    """
    try:
        handler = JsonLines(path)
    except OSError as exc:
        raise ConfigError(
            f"cannot write the request log {path}: {exc.strerror}; choose another --log-json"
        ) from None
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()


def emit(event: RequestEvent) -> None:
    """Log ``event`` when something listens (cheap when nothing does)."""
    if logger.isEnabledFor(logging.INFO):
        logger.info(
            "%s %s attempt %d: %s",
            event.article,
            event.step,
            event.attempt,
            event.status,
            extra={"request": event},
        )


def listening() -> bool:
    """Whether request events are wanted at all (so callers can skip building them)."""
    return logger.isEnabledFor(logging.INFO) and bool(logger.handlers)
