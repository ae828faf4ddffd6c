"""Extract one article into one record: prompt, model call, grounding, provenance, error capture."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from .. import strategies
from .._version import __version__
from ..config import Settings, masked
from ..core.build import MAX_CHARS, capped
from ..core.identity import Identity, Method
from ..errors import ConfigError, ExtractorError, RunStopped
from ..io.articles import Article as InputArticle
from ..io.articles import Unreadable
from ..model.client import ArticleAsker, Engine, Meter, describe_usage
from ..schemas import (
    SCHEMA_VERSION,
    Article,
    Dropped,
    ErrorInfo,
    ExtractionRecord,
    Proposal,
    Provenance,
    Usage,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


NO_MODEL = "none"  # the model and mode recorded for a strategy that asks none


def method_of(settings: Settings) -> Method:
    """The method a run with ``settings`` uses; provenance and the record's identity read it
    from here.

    Raises:
        ConfigError: unknown strategy, or a prompt version the strategy cannot use.
    """
    strategy = strategies.for_settings(settings)
    prompt = strategy.prompt(settings.prompt_version)
    if not strategy.needs_model:
        return Method(NO_MODEL, NO_MODEL, strategy.name, prompt)
    return Method(settings.model, settings.resolved_mode(), strategy.name, prompt)


def identity_of(settings: Settings, article_id: str) -> Identity:
    """The identity of the record a run with ``settings`` makes of article ``article_id``
    (``identity.Identity``: what resumption and the record cache compare).

    Raises:
        ConfigError: unknown strategy, or a prompt version the strategy cannot use.
    """
    return Identity(article_id, SCHEMA_VERSION, method_of(settings), __version__)


def provenance_of(settings: Settings, meter: Meter, clock: Clock = _utc_now) -> Provenance:
    """Where a record came from and what it cost (``settings.base_url`` names the source, its
    password masked)."""
    method = method_of(settings)
    return Provenance(
        model=method.model,
        base_url="" if method.model == NO_MODEL else masked(settings.base_url or ""),
        mode=method.mode,
        strategy=method.strategy,
        prompt_version=method.prompt_version,
        extractor_version=__version__,
        extracted_at=clock().isoformat(timespec="seconds"),
        attempts=meter.responses,
        usage=Usage(**describe_usage(meter)),
    )


def article_of(article: InputArticle) -> Article:
    """The record's ``article`` of an input article, with the ``url`` and ``outlet`` an article
    table gives it."""
    return Article(
        id=article.id,
        source=article.source,
        url=article.url,
        outlet=article.outlet,
        title=article.title,
        published=article.published,
        language=article.language,
        text=article.text,
    )


async def aextract(
    article: InputArticle,
    asker: ArticleAsker | None,
    *,
    settings: Settings | None = None,
    clock: Clock = _utc_now,
) -> ExtractionRecord:
    """The record of one article; a failure of the model is captured in ``error``.

    Args:
        article: the article read.
        asker: what asks the model for this article (``AsyncEngine.article(article.id)``;
            its meter is the record's usage); None for a strategy that asks none (then
            ``settings``).
        settings: the run's settings when there is no asker (else the asker's).
        clock: what ``extracted_at`` is read from.

    Raises:
        ConfigError: the backend refused the request for a reason no other article would escape
            (bad key, unknown model); the caller should stop the batch.
        RunStopped: the run's budget is spent or the run was halted; the article has no record.
    """
    if asker is not None:
        settings = asker.settings
    if settings is None:
        raise TypeError("extract needs an asker or settings")
    strategy = strategies.for_settings(settings)
    proposals: list[Proposal] = []
    dropped: list[Dropped] = []
    error: ErrorInfo | None = None
    try:
        proposals, dropped = await strategy.arun(
            asker, article.text, strategy.prompt(settings.prompt_version)
        )
    except (ConfigError, RunStopped):
        raise
    except ExtractorError as exc:
        error = error_info(exc, settings)
    except Exception as exc:
        # Whatever else went wrong with this article (an answer no check foresaw) is this
        # article's error: the batch goes on, and a re-run asks again.
        log.debug("article %s failed unexpectedly", article.source, exc_info=True)
        error = ErrorInfo(
            type="UnexpectedError",
            message=masked(
                f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}; the same command "
                "asks again",
                settings.api_key,
            ),
        )
    return record(
        article_of(article),
        proposals,
        dropped,
        provenance_of(settings, asker.meter if asker else Meter(), clock),
        error,
    )


def error_info(exc: ExtractorError, settings: Settings) -> ErrorInfo:
    """The record's ``error`` for ``exc``: its message with credentials masked (a server's
    words may echo the key), cut to ``build.MAX_CHARS`` and its length said when longer."""
    message = masked(str(exc), settings.api_key)
    if len(message) > MAX_CHARS:
        message = message[:MAX_CHARS] + f"… (cut: {len(message):,} characters)"
    return ErrorInfo(type=type(exc).__name__, message=message)


def record(
    article: Article,
    proposals: list[Proposal],
    dropped: list[Dropped],
    provenance: Provenance,
    error: ErrorInfo | None,
) -> ExtractionRecord:
    """The record of an article, online, from a batch file or on a cluster: every string the
    model wrote at most ``build.MAX_CHARS`` long, each cut said in ``dropped``."""
    proposals, dropped = capped(proposals, dropped)
    return ExtractionRecord(
        article=article, proposals=proposals, dropped=dropped, provenance=provenance, error=error
    )


def extract(
    article: InputArticle,
    engine: Engine | None,
    *,
    settings: Settings | None = None,
    clock: Clock = _utc_now,
) -> ExtractionRecord:
    """``aextract`` for synchronous code: the article's requests on ``engine``'s loop, counted
    from a fresh start (``engine.last_meter`` is the article's afterwards).

    Raises:
        As ``aextract``.
    """
    if engine is None:
        return strategies.finished(aextract(article, None, settings=settings, clock=clock))
    engine.start_article(article.id)
    return engine.run(aextract(article, engine.asker, clock=clock))


def unreadable(
    item: Unreadable, settings: Settings, *, clock: Clock = _utc_now
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
        provenance=provenance_of(settings, Meter(), clock),
        error=ErrorInfo(type=type(item.error).__name__, message=str(item.error)),
    )
