"""Render the versioned prompt templates in prompts/ into chat messages (pure: text in, out)."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from string import Template

from .errors import ConfigError

Message = dict[str, str]


@cache
def _template(version: str, part: str) -> Template:
    folder = resources.files("extractor.prompts") / version
    if not folder.is_dir():
        available = sorted(
            entry.name for entry in resources.files("extractor.prompts").iterdir() if entry.is_dir()
        )
        available = [name for name in available if not name.startswith("__")]
        raise ConfigError(
            f"unknown prompt version {version!r}; available: {', '.join(available) or 'none'}"
        )
    return Template((folder / f"{part}.txt").read_text(encoding="utf-8"))


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
    _template(version, "system")  # the error for an unknown version
    folder = resources.files("extractor.prompts") / version
    missing = [part for part in parts if not (folder / f"{part}.txt").is_file()]
    if missing:
        raise ConfigError(
            f"prompt {version!r} has no {', '.join(f'{m}.txt' for m in missing)}, which {user} "
            "asks with; give a prompt version made for it, or leave out --prompt"
        )


@cache
def digest(version: str) -> str:
    """A hash of every template of a prompt version, so an edited prompt is a different prompt
    even when its version name stays.

    Raises:
        ConfigError: no prompt of that version exists.
    """
    _template(version, "system")  # the error for an unknown version
    folder = resources.files("extractor.prompts") / version
    h = hashlib.sha256()
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".txt"):
            h.update(entry.name.encode() + b"\0" + entry.read_bytes() + b"\0")
    return h.hexdigest()[:16]
