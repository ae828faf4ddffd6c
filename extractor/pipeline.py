"""Extract one article into one record: prompt, model call, grounding, provenance, error capture."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from . import __version__, strategies
from .articles import Article as InputArticle
from .articles import Unreadable
from .client import Engine, Meter, describe_usage
from .config import Settings, masked
from .errors import ConfigError, ExtractorError, RunStopped
from .schemas import Article, ErrorInfo, ExtractionRecord, Provenance, Usage

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def provenance_of(
    settings: Settings, mode: str, meter: Meter, clock: Clock = _utc_now
) -> Provenance:
    """Where a record came from and what it cost (``settings.base_url`` names the source, its
    password masked)."""
    return Provenance(
        model=settings.model,
        base_url=masked(settings.base_url or ""),
        mode=mode,
        strategy=settings.strategy,
        prompt_version=strategies.prompt_of(settings.strategy, settings.prompt_version),
        extractor_version=__version__,
        extracted_at=clock().isoformat(timespec="seconds"),
        attempts=meter.responses,
        usage=Usage(**describe_usage(meter)),
    )


def article_of(article: InputArticle) -> Article:
    return Article(
        id=article.id,
        source=article.source,
        title=article.title,
        published=article.published,
        language=article.language,
        text=article.text,
    )


def extract(article: InputArticle, engine: Engine, *, clock: Clock = _utc_now) -> ExtractionRecord:
    """The record of one article; a failure of the model is captured in ``error``.

    Raises:
        ConfigError: the backend refused the request for a reason no other article would escape
            (bad key, unknown model); the caller should stop the batch.
        RunStopped: the run's budget is spent or the run was halted; the article has no record.
    """
    settings = engine.settings
    engine.start_article(article.id)
    try:
        proposals, dropped = strategies.run(
            settings.strategy, engine, article.text, settings.prompt_version
        )
    except (ConfigError, RunStopped):
        raise
    except ExtractorError as exc:
        return ExtractionRecord(
            article=article_of(article),
            proposals=[],
            dropped=[],
            provenance=provenance_of(settings, engine.mode, engine.last_meter, clock),
            error=ErrorInfo(type=type(exc).__name__, message=masked(str(exc))),
        )
    return ExtractionRecord(
        article=article_of(article),
        proposals=proposals,
        dropped=dropped,
        provenance=provenance_of(settings, engine.mode, engine.last_meter, clock),
        error=None,
    )


def unreadable(
    item: Unreadable, settings: Settings, mode: str, *, clock: Clock = _utc_now
) -> ExtractionRecord:
    """The record of an input that could not be read: no text, no model call, the error."""
    return ExtractionRecord(
        article=Article(
            id=InputArticle(item.source, "", None, None, "und").id,
            source=item.source,
            title=None,
            published=None,
            language="und",
            text="",
        ),
        proposals=[],
        dropped=[],
        provenance=provenance_of(settings, mode, Meter(), clock),
        error=ErrorInfo(type=type(item.error).__name__, message=str(item.error)),
    )
