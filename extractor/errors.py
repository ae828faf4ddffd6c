"""The exception tree: every error the extractor raises on purpose derives from ExtractorError.

    ExtractorError
    ├── ConfigError          the user must change a flag, a variable or an install: no retry helps
    ├── InputError           an input file cannot be read as an article (names the file and the fix)
    ├── ModelError           the model server failed at run time
    │   ├── BackendError     server down, refused, timed out, or HTTP errors past the retries
    │   └── OutputError      the model's output stayed invalid after every re-ask
    ├── BudgetError          an article reached --max-tokens-per-article (recorded, resumable)
    └── RunStopped           the run's --budget is spent, or it was interrupted: nothing more is
                             sent, and the articles it stopped get no record (a re-run finishes
                             them)

The CLI's one handler (``cli._Command``) prints ``str(error)`` as one line and exits 2 for
ConfigError and InputError, 1 for the others; per-article errors are recorded in that article's
``error`` field and the batch goes on.
"""

from __future__ import annotations


class ExtractorError(Exception):
    """Root of every error the extractor raises on purpose."""


class ConfigError(ExtractorError):
    """A setting, flag or installation is wrong; the message says what to change."""


class InputError(ExtractorError):
    """An input cannot be read as an article; the message names the file and the fix."""


class ModelError(ExtractorError):
    """The model server failed while extracting."""


class BackendError(ModelError):
    """The server could not be reached or kept failing after the transport retries."""


class OutputError(ModelError):
    """The model's output could not be parsed into the schema after every re-ask."""


class BudgetError(ExtractorError):
    """A spending limit was reached; the message names the limit and how to go on."""


class RunStopped(ExtractorError):
    """The run's budget is spent or it was interrupted: the batch stops and can be resumed."""
