"""The run's method, resolved once where a run or a call starts and passed down from there.

``resolve_method(settings)`` is the one place that turns the settings into the concrete strategy
(``auto`` chosen, its prompt version checked) and the model and mode the run records: the
pipeline plans and concludes with it, provenance records it, and resumption and the record
cache compare the identity it gives (``identity``). Nothing below a run's start resolves the
settings again.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import strategies
from .._version import __version__
from ..config import Settings
from ..core.identity import Identity, Method
from ..schemas import SCHEMA_VERSION

NO_MODEL = "none"  # the model and mode recorded for a strategy that asks none


@dataclass(frozen=True)
class RunMethod:
    """How a run extracts: its settings, the concrete strategy, and the model, mode, strategy
    name and prompt version every record of the run states (``method``)."""

    settings: Settings
    strategy: strategies.Strategy
    method: Method

    @property
    def needs_model(self) -> bool:
        """True when the strategy plans requests: a server must answer them."""
        return self.strategy.needs_model

    @property
    def prompt(self) -> str:
        """The prompt version the strategy asks with."""
        return self.method.prompt_version

    def identity(self, article_id: str) -> Identity:
        """The identity of the record this method makes of article ``article_id``
        (``identity.Identity``: what resumption and the record cache compare)."""
        return Identity(article_id, SCHEMA_VERSION, self.method, __version__)


def resolve_method(settings: Settings) -> RunMethod:
    """The method of a run with ``settings``.

    Raises:
        ConfigError: unknown strategy, or a prompt version the strategy cannot use.
    """
    strategy = strategies.for_settings(settings)
    prompt = strategy.prompt(settings.prompt_version)
    if not strategy.needs_model:
        return RunMethod(settings, strategy, Method(NO_MODEL, NO_MODEL, strategy.name, prompt))
    method = Method(settings.model, settings.resolved_mode(), strategy.name, prompt)
    return RunMethod(settings, strategy, method)
