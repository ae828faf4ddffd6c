"""Extract one article into one record: plan, ask, conclude, provenance, error capture.

``conclude`` is the one place a record is made, whoever obtained the answers: online
(``aextract``), from a provider's batch result file (``batch.collect``) or from a Ray processor
(``raydata``); an input that could not be read gets its record there too (``unreadable``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from .. import strategies
from .._version import __version__
from ..config import Settings, masked
from ..core.answers import Meter
from ..core.build import MAX_CHARS, capped
from ..errors import ConfigError, ExtractorError, RunStopped
from ..io.articles import Article as InputArticle
from ..io.articles import Unreadable
from ..model.client import ArticleAsker
from ..model.parsing import describe_usage
from ..model.sync import Engine
from ..schemas import Article, Dropped, ErrorInfo, ExtractionRecord, Proposal, Provenance, Usage
from .method import NO_MODEL, RunMethod, resolve_method

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def provenance_of(
    method: RunMethod, meter: Meter, source: str, clock: Clock = _utc_now
) -> Provenance:
    """Where a record came from and what it cost: ``source`` names the server that answered
    (its password masked) or the result file, and is left empty when no model was asked."""
    chosen = method.method
    return Provenance(
        model=chosen.model,
        base_url="" if chosen.model == NO_MODEL else masked(source),
        mode=chosen.mode,
        strategy=chosen.strategy,
        prompt_version=chosen.prompt_version,
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
    method: RunMethod,
    *,
    clock: Clock = _utc_now,
) -> ExtractionRecord:
    """The record of one article asked online; a failure of the model is captured in ``error``.

    Args:
        article: the article read.
        asker: what asks the model for this article (``AsyncEngine.article(article.id)``;
            its meter is the record's usage, its server the record's source); None for a
            strategy that asks none.
        method: the run's method (``method.resolve_method``).
        clock: what ``extracted_at`` is read from.

    Raises:
        ConfigError: the backend refused the request for a reason no other article would escape
            (bad key, unknown model); the caller should stop the batch.
        RunStopped: the run's budget is spent or the run was halted; the article has no record.
    """
    settings = asker.settings if asker is not None else method.settings
    asks: list[strategies.Ask] = []
    answers: list[strategies.Answer] | Exception
    try:
        asks = method.strategy.plan(article.text, method.prompt)
        answers = await method.strategy.ask_all(asker, asks)
    except (ConfigError, RunStopped):
        raise
    except Exception as exc:
        answers = exc
    meter = asker.meter if asker is not None else Meter()
    return conclude(article, method, asks, answers, meter, settings.base_url or "", clock)


def conclude(
    article: InputArticle,
    method: RunMethod,
    asks: list[strategies.Ask],
    answers: list[strategies.Answer] | Exception,
    meter: Meter,
    source: str,
    clock: Clock = _utc_now,
) -> ExtractionRecord:
    """The record of ``article`` from the answers to ``asks`` (its plan under ``method``), or
    from why there are none (``answers`` an exception), online, from a batch file or on a
    cluster: the strategy concludes the proposals, every string the model wrote is cut to
    ``build.MAX_CHARS`` (each cut said in ``dropped``), a failure is the record's ``error``
    and ``source`` its provenance's ``base_url``.

    Raises:
        ConfigError, RunStopped: as given in ``answers``; they stop the run, not the article.
    """
    proposals: list[Proposal] = []
    dropped: list[Dropped] = []
    error: ErrorInfo | None = None
    try:
        if isinstance(answers, Exception):
            raise answers
        proposals, dropped = method.strategy.conclude(article.text, asks, answers)
    except (ConfigError, RunStopped):
        raise
    except ExtractorError as exc:
        error = error_info(exc, method.settings)
    except Exception as exc:
        # Whatever else went wrong with this article (an answer no check foresaw) is this
        # article's error: the batch goes on, and a re-run asks again.
        log.debug("article %s failed unexpectedly", article.source, exc_info=True)
        error = ErrorInfo(
            type="UnexpectedError",
            message=masked(
                f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}; the same command "
                "asks again",
                method.settings.api_key,
            ),
        )
    proposals, dropped = capped(proposals, dropped)
    return ExtractionRecord(
        article=article_of(article),
        proposals=proposals,
        dropped=dropped,
        provenance=provenance_of(method, meter, source, clock),
        error=error,
    )


def error_info(exc: ExtractorError, settings: Settings) -> ErrorInfo:
    """The record's ``error`` for ``exc``: its message with credentials masked (a server's
    words may echo the key), cut to ``build.MAX_CHARS`` and its length said when longer."""
    message = masked(str(exc), settings.api_key)
    if len(message) > MAX_CHARS:
        message = message[:MAX_CHARS] + f"… (cut: {len(message):,} characters)"
    return ErrorInfo(type=type(exc).__name__, message=message)


def extract(
    article: InputArticle,
    engine: Engine | None,
    *,
    method: RunMethod | None = None,
    settings: Settings | None = None,
    clock: Clock = _utc_now,
) -> ExtractionRecord:
    """``aextract`` for synchronous code: the article's requests on ``engine``'s loop, counted
    from a fresh start (``engine.last_meter`` is the article's afterwards). ``method`` is the
    run's; one article on its own (no ``method``) resolves ``settings``, else the engine's.

    Raises:
        As ``aextract``.
    """
    if method is None:
        chosen = engine.settings if engine is not None else settings
        if chosen is None:
            raise TypeError("extract needs an engine, a method or settings")
        method = resolve_method(chosen)
    if engine is not None:
        engine.start_article(article.id)
    return strategies.run_sync(engine, lambda asker: aextract(article, asker, method, clock=clock))


def unreadable(
    item: Unreadable, method: RunMethod, source: str, *, clock: Clock = _utc_now
) -> ExtractionRecord:
    """The record of an input that could not be read: no text, no model call, the error."""
    empty = InputArticle(item.source, "", None, None, "und")
    return conclude(empty, method, [], item.error, Meter(), source, clock)
