"""Extract security-guarantee proposals from news articles as grounded, validated records.

The public interface (see the README's "Python" section)::

    extractor.extract(text_or_path, **settings) -> Record
    extractor.extract_many(articles, concurrency=4, **settings) -> Iterator[Record]
    await extractor.aextract(text_or_path, **settings) -> Record
    extractor.settings(**settings) -> Settings
    extractor.events(records) -> list[dict]   proposals grouped across articles into events
    extractor.close()                  stop the embedded server this process started
    extractor.to_arrow(records) / extractor.to_pandas(records) -> {table name: table}

and the exception tree rooted at :class:`ExtractorError`.
"""

from __future__ import annotations

from ._version import __version__
from .api import (
    Record,
    aextract,
    close,
    events,
    extract,
    extract_many,
    settings,
    to_arrow,
    to_pandas,
)
from .config import Settings
from .errors import (
    BackendError,
    BudgetError,
    ConfigError,
    ExtractorError,
    InputError,
    ModelError,
    OutputError,
    RunStopped,
)

__all__ = [
    "BackendError",
    "BudgetError",
    "ConfigError",
    "ExtractorError",
    "InputError",
    "ModelError",
    "OutputError",
    "Record",
    "RunStopped",
    "Settings",
    "__version__",
    "aextract",
    "close",
    "events",
    "extract",
    "extract_many",
    "settings",
    "to_arrow",
    "to_pandas",
]
