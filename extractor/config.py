"""The settings, declared once: each one's type, default, environment variable, command-line
flag and help live on its field of :class:`Settings`, and are resolved keyword (or flag) >
environment variable > default into one frozen object.

The command line builds its flags from this declaration (``cli.settings_options``), the Python
interface checks its keyword arguments against it, and the README's settings table is printed
from it (:func:`markdown_table`). Every environment variable the package reads is read here.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlparse

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from .errors import ConfigError

Mode = Literal["auto", "json_schema", "llamacpp", "json", "tools"]
MODES: tuple[str, ...] = get_args(Mode)

EMBEDDED_MODEL = "smollm2-135m-instruct"
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
# The answer budget (``max_tokens``) by model. A capable model's answer for a long article with
# several proposals runs to 1,300-1,600 tokens (docs/quality.md, the capable replay), so a server's
# model gets room for more than twice that. The embedded 135M model keeps 1024: its answers are
# short field questions, and one that reaches the cap is the model repeating itself, which more
# room only makes slower (on two CPU cores, ~20 tokens a second).
EMBEDDED_MAX_TOKENS = 1024
SERVER_MAX_TOKENS = 4096
# The most an answer cut off at max_tokens is given when asked again: what OpenAI's models write
# at most in one answer (gpt-4o and gpt-4o-mini: 16,384 output tokens).
MAX_TOKENS_CEILING = 16_384
DEFAULT_PROMPT = "extract-v1"  # the prompt of the one-call strategy, ``single``
DEFAULT_STRATEGY = "auto"  # names are checked by ``strategies.named``, where they live

# The password of a URL's user-info, up to the last "@" of the authority ("p@ss" included).
_PASSWORD_RE = re.compile(r"(?P<user>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^/?#@\s:]*):[^/?#\s]*@")
# A credential in the words around it, whoever's it is: the value of an ``Authorization``
# header, a bearer token standing alone, an OpenAI-style key (``sk-…``, ``sk-proj-…``) and the
# value of an ``api-key`` / ``x-api-key`` header or ``api_key=`` parameter (Azure and others).
# A server that echoes the request's headers in an error page puts them in text that is kept.
# "Bearer" is matched as headers write it, with a token of 8 characters or more, so that prose
# ("the bearer of") stays as it is.
_CREDENTIAL_RES = (
    (
        re.compile(r"""(?i)(?P<keep>\bauthorization["']?\s*[:=]\s*["']?)[^"'\r\n,;}]+"""),
        r"\g<keep>***",
    ),
    (re.compile(r"\b(?P<keep>Bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\g<keep>***"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{6,}"), "sk-***"),
    (
        re.compile(r"""(?i)(?P<keep>\bapi[-_]?key["']?\s*[:=]\s*["']?)[^\s"',;&}]+"""),
        r"\g<keep>***",
    ),
)
# A secret shorter than this is not looked for in text: it would mask ordinary words.
_SHORTEST_SECRET = 6


def masked(text: str, *secrets: str | None) -> str:
    """``text`` with the password of every URL in it replaced by ``***``
    (``http://alice:***@host/v1``, ``postgresql://user:***@host/db``), and API keys too: each
    of ``secrets`` (the configured key) wherever it stands, and anything shaped like a key
    (``Bearer …``, ``sk-…``, ``api-key: …``). For anything shown or stored: provenance,
    database rows, reports, manifests, messages and logs, and every text a server sent.

    A regular expression rather than ``urllib.parse``: it must find URLs inside free text (an
    error message quoting the server), which no URL parser does.
    """
    for secret in secrets:
        if secret and len(secret) >= _SHORTEST_SECRET:
            text = text.replace(secret, "***")
    for pattern, replacement in _CREDENTIAL_RES:
        text = pattern.sub(replacement, text)
    return _PASSWORD_RE.sub(r"\g<user>:***@", text)


@dataclass(frozen=True)
class RetryPolicy:
    """The one retry policy: how many requests a failure may cost, stated in one place.

    The OpenAI SDK's own retries are off (``max_retries=0`` on the client). A request that fails
    in transport (connection error, timeout, HTTP 429 or 5xx) is retried up to
    ``transport_retries`` times with exponential backoff and jitter (tenacity); an answer that
    does not validate is re-asked up to ``max_reasks`` times (instructor), the validation error
    fed back to the model. Each re-ask is itself subject to the transport retries.

    Retries and re-asks draw on one shared ``budget`` per article: the extra requests an article
    may make beyond one per question, whatever caused them. Once it is spent, a transport
    failure fails the request and an invalid answer is kept as it stands (salvaged). A single
    request therefore costs at most ``(1 + max_reasks) * (1 + transport_retries)`` requests, but
    for an answer cut off at max_tokens and asked again with a larger budget (also drawn on
    ``budget``; ``Settings.max_tokens_ceiling``), and an article at most its questions plus
    ``budget``.

    A server that cannot be reached at all stops the run: after ``connection_failures``
    requests in a row could not connect (0: never), the run ends resumably instead of spending
    every remaining article's retries on it.
    """

    max_reasks: int = 1
    transport_retries: int = 2
    budget: int = 8
    connection_failures: int = 10
    backoff_initial: float = 1.0
    backoff_max: float = 20.0

    @property
    def max_requests(self) -> int:
        return (1 + self.max_reasks) * (1 + self.transport_retries)


@dataclass(frozen=True)
class Declared:
    """How the user gives a setting (the metadata of a :class:`Settings` field).

    ``flag`` is the command-line flag (empty: ``--`` and the field's name with dashes; None: the
    setting has no flag, only its variable); ``default`` is how the default reads in help texts
    and the README (None: the value itself); ``example`` is a good value for error messages
    (None: the default); ``api`` False keeps it off the Python interface, which does not use it.
    """

    variable: str
    help: str
    flag: str | None = ""
    default: str | None = None
    example: str | None = None
    api: bool = True


@dataclass(frozen=True)
class Setting:
    """One declared setting: its field name, its declaration and its pydantic field."""

    name: str
    declared: Declared
    field: FieldInfo

    @property
    def flag(self) -> str | None:
        flag = self.declared.flag
        return "--" + self.name.replace("_", "-") if flag == "" else flag

    @property
    def shown_default(self) -> str:
        if self.declared.default is not None:
            return self.declared.default
        return _shown(self.field.get_default(call_default_factory=True))

    @property
    def example(self) -> str:
        return self.declared.example or self.shown_default


def _shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# The mapping of environment variables a resolution reads (None: ``os.environ``). Set only
# while :func:`resolve` builds settings from a given mapping (tests, benchmarks).
_VARIABLES: ContextVar[Mapping[str, str] | None] = ContextVar("variables", default=None)


class _Environment(PydanticBaseSettingsSource):
    """The value of each setting's environment variable; an unset or empty one is left to the
    default. ``$XDG_CACHE_HOME`` moves the default cache folder, as the XDG standard says."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        variables = _VARIABLES.get()
        self.variables: Mapping[str, str] = os.environ if variables is None else variables

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        declared = _declared(field)
        value = self.variables.get(declared.variable) if declared is not None else None
        return value or None, field_name, False

    def __call__(self) -> dict[str, Any]:
        found = {}
        for name, field in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(field, name)
            if value is not None:
                found[name] = value
        if "cache_dir" not in found and self.variables.get("XDG_CACHE_HOME"):
            found["cache_dir"] = _records_dir(Path(self.variables["XDG_CACHE_HOME"]))
        return found


def _records_dir(cache_home: Path | None = None) -> Path:
    return (cache_home or Path.home() / ".cache") / "guarantee-extractor" / "records"


def _declared(field: FieldInfo) -> Declared | None:
    return next((item for item in field.metadata if isinstance(item, Declared)), None)


class Settings(BaseSettings):
    """Everything a run needs to know, resolved once: ``Settings(**keywords)`` takes each
    setting from its keyword, else its environment variable, else its default.

    ``base_url`` None means: start the embedded server and use it. ``retry`` gathers the retry
    settings into the one :class:`RetryPolicy`. ``temperature`` and ``seed`` are fixed (no
    variable, no flag): they are recorded so the cache key would tell a change apart.
    """

    model_config = SettingsConfigDict(frozen=True, extra="forbid")

    base_url: Annotated[
        str | None,
        Declared(
            "OPENAI_BASE_URL",
            "OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1.",
            default="none: start the embedded model",
        ),
    ] = None
    api_key: Annotated[
        str | None,
        Field(repr=False),  # a secret: never in a log line or a traceback
        Declared(
            "OPENAI_API_KEY",
            "API key of the server (local servers ignore it).",
            flag=None,
            default="none",
        ),
    ] = None
    model: Annotated[
        str,
        Declared(
            "EXTRACTOR_MODEL",
            "Model name.",
            default=f"{EMBEDDED_MODEL} embedded, else {DEFAULT_OPENAI_MODEL}",
        ),
    ] = Field("", validate_default=True)
    mode: Annotated[Mode, Declared("EXTRACTOR_MODE", "How to ask for structured output.")] = "auto"
    prompt_version: Annotated[
        str | None,
        Declared(
            "EXTRACTOR_PROMPT",
            "Prompt version, a folder of prompts/, or the path of a directory of templates "
            "(with a /).",
            flag="--prompt",
            default="the strategy's own",
        ),
    ] = None
    strategy: Annotated[
        str, Declared("EXTRACTOR_STRATEGY", "How the article is put to the model.")
    ] = DEFAULT_STRATEGY
    max_reasks: Annotated[
        int,
        Field(ge=0),
        Declared(
            "EXTRACTOR_MAX_REASKS",
            "Re-asks of an answer that does not validate (a quote not found, say).",
        ),
    ] = RetryPolicy.max_reasks
    transport_retries: Annotated[
        int,
        Field(ge=0),
        Declared(
            "EXTRACTOR_TRANSPORT_RETRIES",
            "Retries of a request that failed in transport (connection, timeout, HTTP 429 or 5xx).",
            flag=None,
        ),
    ] = RetryPolicy.transport_retries
    retry_budget: Annotated[
        int,
        Field(ge=0),
        Declared(
            "EXTRACTOR_RETRY_BUDGET",
            "Extra requests (transport retries and re-asks together) one article may make.",
        ),
    ] = RetryPolicy.budget
    max_connection_failures: Annotated[
        int,
        Field(ge=0),
        Declared(
            "EXTRACTOR_MAX_CONNECTION_FAILURES",
            "Stop the run (resumably) after this many requests in a row could not reach the "
            "server; 0: never.",
        ),
    ] = RetryPolicy.connection_failures
    timeout: Annotated[
        float, Field(gt=0), Declared("EXTRACTOR_TIMEOUT", "Seconds per request, all of it.")
    ] = 300.0
    max_tokens: Annotated[
        int,
        Field(ge=1),
        Declared(
            "EXTRACTOR_MAX_TOKENS",
            "Most tokens one answer of the model may take (an answer cut off there is asked "
            f"again with twice as many, up to {MAX_TOKENS_CEILING:,}, but on the embedded model).",
            flag=None,
            default=f"{EMBEDDED_MAX_TOKENS} on the embedded model, else {SERVER_MAX_TOKENS}",
        ),
    ] = Field(None, validate_default=True)  # by the model: ``_default_max_tokens``
    gguf: Annotated[
        str | None,
        Declared(
            "EXTRACTOR_GGUF",
            "Model file for the embedded server.",
            default="the bundled SmolLM2",
        ),
    ] = None
    max_tokens_per_article: Annotated[
        int | None,
        Field(ge=1),
        Declared(
            "EXTRACTOR_MAX_TOKENS_PER_ARTICLE",
            "Stop an article once it has used this many tokens (its record says so; a re-run "
            "with a higher limit finishes it).",
            default="no limit",
            example="20000",
        ),
    ] = None
    prices: Annotated[
        str | None,
        Declared(
            "EXTRACTOR_PRICES",
            "JSON price table, model -> USD per million prompt/completion tokens.",
            default="none",
            api=False,
        ),
    ] = None
    cache_dir: Annotated[
        Path,
        Declared(
            "EXTRACTOR_CACHE_DIR",
            "Where cached records live.",
            default="~/.cache/guarantee-extractor/records ($XDG_CACHE_HOME for ~/.cache)",
        ),
    ] = Field(default_factory=_records_dir)
    temperature: float = 0.0
    seed: int = 0

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Keywords over the declared environment variables; no ``.env`` or secrets files."""
        return init_settings, _Environment(settings_cls)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError(
                f"base URL {masked(url)!r} is not an http(s) URL; give e.g. "
                "http://127.0.0.1:8000/v1"
            )
        return url.rstrip("/")

    @field_validator("model")
    @classmethod
    def _default_model(cls, model: str, info: ValidationInfo) -> str:
        if model:
            return model
        return EMBEDDED_MODEL if info.data.get("base_url") is None else DEFAULT_OPENAI_MODEL

    @field_validator("max_tokens", mode="before")
    @classmethod
    def _default_max_tokens(cls, value: Any, info: ValidationInfo) -> Any:
        if value is not None:
            return value
        return default_max_tokens(str(info.data.get("model") or ""))

    @property
    def small_model(self) -> bool:
        """The model is the embedded SmolLM2, served by this process or by hand."""
        return self.model == EMBEDDED_MODEL

    @property
    def max_tokens_ceiling(self) -> int:
        """The most tokens an answer cut off at ``max_tokens`` may be given when asked again:
        ``max_tokens`` itself on the embedded model (its cut answers are repetition, not a long
        answer), else ``MAX_TOKENS_CEILING`` (or ``max_tokens``, when that is higher)."""
        return self.max_tokens if self.small_model else max(self.max_tokens, MAX_TOKENS_CEILING)

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_reasks=self.max_reasks,
            transport_retries=self.transport_retries,
            budget=self.retry_budget,
            connection_failures=self.max_connection_failures,
        )

    @property
    def embedded(self) -> bool:
        return self.base_url is None

    def with_base_url(self, base_url: str) -> Settings:
        """The same settings pointed at a server started for this run, keeping the mode chosen
        for the embedded backend."""
        return self.model_copy(update={"base_url": base_url, "mode": self.resolved_mode()})

    def resolved_mode(self) -> Mode:
        """The structured-output mode to use with this backend when ``mode`` is ``auto``.

        The embedded llama-cpp-python server gets ``json_object`` with a schema (it answers
        ``json_schema`` with HTTP 500); any other server gets strict ``json_schema`` structured
        output, which OpenAI, vLLM, Ollama and llama.cpp's own server accept. A
        llama-cpp-python server started by hand needs ``--mode llamacpp``.
        """
        if self.mode != "auto":
            return self.mode
        return "llamacpp" if self.base_url is None else "json_schema"


def default_max_tokens(model: str) -> int:
    """The answer budget a model gets when ``EXTRACTOR_MAX_TOKENS`` is not set."""
    return EMBEDDED_MAX_TOKENS if model == EMBEDDED_MODEL else SERVER_MAX_TOKENS


# Every declared setting by name, in the order of the declaration.
SETTINGS: dict[str, Setting] = {
    name: Setting(name, declaration, field)
    for name, field in Settings.model_fields.items()
    if (declaration := _declared(field)) is not None
}


def check_names(names: Iterable[str], *, api: bool = False) -> None:
    """Refuse a keyword that names no setting (or, for the Python interface, one it does not
    use), suggesting the nearest name.

    Raises:
        TypeError: an unknown keyword, as for any Python call.
    """
    known = [s.name for s in SETTINGS.values() if s.declared.api or not api]
    for name in names:
        if name in known:
            continue
        if name in SETTINGS:
            raise TypeError(
                f"{name!r} is a setting of the command line only (the Python interface does "
                f"not use it); leave it out"
            )
        near = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {near[0]!r}? " if near else ""
        raise TypeError(f"unknown setting {name!r}; {hint}settings: {', '.join(known)}")


def resolve(*, env: Mapping[str, str] | None = None, **options: Any) -> Settings:
    """Build the settings from keyword arguments or flags (None or empty: not given), else the
    environment (``env``, default ``os.environ``), else the defaults.

    The strategy name and the prompt version are checked by ``strategies.for_settings``, which
    knows the strategies.

    Raises:
        TypeError: a keyword names no setting.
        ConfigError: a value is malformed, e.g. a base URL that is not http(s), an unknown mode,
            a variable that is not a number; the message names the variable or keyword.
    """
    check_names(options)
    given = {name: value for name, value in options.items() if value is not None and value != ""}
    token = _VARIABLES.set(env)
    try:
        return Settings(**given)
    except ValidationError as exc:
        raise ConfigError(_message(exc, given)) from None
    finally:
        _VARIABLES.reset(token)


def _message(exc: ValidationError, given: Mapping[str, Any]) -> str:
    """One line on the first invalid setting: what was given where, and what to give instead."""
    error = exc.errors()[0]
    name = str(error["loc"][0]) if error["loc"] else ""
    setting = SETTINGS.get(name)
    if setting is None:
        return masked(f"{name}: {error['msg']}")
    source = name if name in given else setting.declared.variable
    value = error["input"]
    kind = error["type"]
    if kind == "value_error":  # a validator's own message, e.g. the base URL's
        return masked(str(error["ctx"]["error"]))
    if kind == "literal_error":
        where = "" if name in given else f" in {source}"
        choices = ", ".join(get_args(setting.field.annotation))
        return f"unknown {name} {value!r}{where}; choose one of {choices}"
    stated = f"{source}={masked(value) if isinstance(value, str) else value!r}"
    if kind in ("int_parsing", "int_from_float", "int_type"):
        return f"{stated} is not a whole number; set it to e.g. {setting.example}"
    if kind in ("float_parsing", "float_type"):
        return f"{stated} is not a number; set it to e.g. {setting.example}"
    if kind == "greater_than":
        return f"{stated} must be positive"
    if kind == "greater_than_equal":
        at_least = error["ctx"]["ge"]
        return (
            f"{stated} must not be negative"
            if at_least == 0
            else f"{stated} must be at least {at_least}"
        )
    return f"{stated}: {error['msg'].lower()}; set it to e.g. {setting.example}"


def markdown_table() -> str:
    """The README's settings table: flag, variable, default and meaning of every setting."""
    lines = ["| Flag | Variable | Default | Meaning |", "| --- | --- | --- | --- |"]
    for setting in SETTINGS.values():
        flag = f"`{setting.flag}`" if setting.flag else "—"
        meaning = setting.declared.help + ("" if setting.declared.api else " Command line only.")
        lines.append(
            f"| {flag} | `{setting.declared.variable}` | {setting.shown_default} | {meaning} |"
        )
    return "\n".join(lines) + "\n"
