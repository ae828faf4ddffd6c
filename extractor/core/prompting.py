"""Render the versioned prompt templates in prompts/ into chat messages (pure: text in, out)."""

from __future__ import annotations

import hashlib
import os
import re
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from ..errors import ConfigError

Message = dict[str, str]


# A prompt version's name: a folder of the prompts folder, never a path out of it.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
# What the templates may ask to be filled in: the article, and a question's options.
_PLACEHOLDERS = frozenset({"text", "options"})


@cache
def _prompts() -> Traversable:
    """The folder of the prompt versions: the checkout's top-level prompts/, which an installed
    wheel carries as ``extractor.prompts`` (pyproject.toml maps it there, so that the templates
    stay at the top of the checkout where a reader finds them, without a symlink)."""
    try:
        return resources.files("extractor.prompts")
    except ModuleNotFoundError:  # a checkout: extractor/core/prompting.py -> prompts/
        return Path(__file__).resolve().parents[2] / "prompts"


def _available() -> list[str]:
    packaged = _prompts()
    return sorted(e.name for e in packaged.iterdir() if e.is_dir() and _NAME.fullmatch(e.name))


@cache
def folder(version: str) -> Traversable:
    """The folder of prompt ``version``: a name is a folder of the prompts folder
    (``extract-v1``); a value with a ``/`` is a directory the user names by its path
    (``./my-prompts``, ``/srv/prompts/v2``), read as it is.

    Raises:
        ConfigError: no prompt folder of that name, or no directory at that path.
    """
    if "/" in version or os.sep in version:
        if not Path(version).is_dir():
            raise ConfigError(
                f"--prompt {version!r} is no directory; give a directory of prompt templates "
                f"(a path with a /) or a prompt version: {', '.join(_available()) or 'none'}"
            )
        return Path(version)
    found = _prompts() / version
    if not _NAME.fullmatch(version) or not found.is_dir():
        raise ConfigError(
            f"unknown prompt version {version!r}; available: {', '.join(_available()) or 'none'}"
            " (or the path of a directory of templates, with a /)"
        )
    return found


@cache
def _template(version: str, part: str) -> Template:
    template = folder(version) / f"{part}.txt"
    try:
        return Template(template.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        why = "is not UTF-8" if isinstance(exc, UnicodeDecodeError) else "cannot be read"
        raise ConfigError(
            f"prompt {version!r}: {part}.txt {why}; give a prompt version that has it, or "
            "leave out --prompt"
        ) from None


def render(version: str, text: str) -> list[Message]:
    """Chat messages asking the model to extract proposals from one article.

    Args:
        version: a folder name under prompts/, e.g. ``extract-v1``.
        text: the article text, inserted verbatim.

    Returns:
        A system and a user message.

    Raises:
        ConfigError: no prompt of that version exists.
    """
    return [
        {"role": "system", "content": _template(version, "system").substitute().strip()},
        {"role": "user", "content": _template(version, "user").substitute(text=text).strip()},
    ]


def render_part(version: str, part: str, text: str, **extra: str) -> list[Message]:
    """Chat messages asking one focused question (``prompts/<version>/<part>.txt``) about ``text``;
    ``extra`` fills the template's other placeholders (``$options``).

    Raises:
        ConfigError: no prompt of that version exists.
    """
    return [
        {"role": "system", "content": _template(version, "system").substitute().strip()},
        {
            "role": "user",
            "content": _template(version, part).substitute(extra, text=text).strip(),
        },
    ]


@cache
def require_parts(version: str, parts: tuple[str, ...], user: str) -> None:
    """Check that prompt ``version`` has a template for each of ``parts`` (``user`` names who
    asks, for the message). A check that passed is not made again: every article's record asks
    for it, and the templates ship with the package.

    Raises:
        ConfigError: no prompt of that version exists, or it lacks one of the parts.
    """
    where = folder(version)  # the error for an unknown version
    missing = [part for part in parts if not (where / f"{part}.txt").is_file()]
    if missing:
        raise ConfigError(
            f"prompt {version!r} has no {', '.join(f'{m}.txt' for m in missing)}, which {user} "
            "asks with; give a prompt version made for it, or leave out --prompt"
        )
    for part in parts:
        unknown = set(_template(version, part).get_identifiers()) - _PLACEHOLDERS
        if unknown or not _template(version, part).is_valid():
            raise ConfigError(
                f"prompt {version!r}: {part}.txt has a $ that is no placeholder "
                f"({', '.join(sorted(f'${name}' for name in unknown)) or 'a lone $'}); the "
                f"placeholders are {', '.join(f'${p}' for p in sorted(_PLACEHOLDERS))}, and $$ "
                "writes a dollar sign"
            )


@cache
def digest(version: str) -> str:
    """A hash of every template of a prompt version, so an edited prompt is a different prompt
    even when its version name stays.

    Raises:
        ConfigError: no prompt of that version exists.
    """
    h = hashlib.sha256()
    for entry in sorted(folder(version).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".txt"):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return h.hexdigest()[:16]
