"""Turn command-line inputs (files, directories, stdin) into articles with title, date, language."""

from __future__ import annotations

import hashlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .errors import InputError
from .normalize import detect_language

SUFFIXES = (".txt", ".md", ".html", ".htm")
MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Article:
    source: str
    text: str
    title: str | None
    published: str | None
    language: str

    @property
    def id(self) -> str:
        return "sha256:" + hashlib.sha256(self.text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Unreadable:
    """An input that could not be read; it still gets a record, carrying the error."""

    source: str
    error: InputError


class _TextOfHtml(HTMLParser):
    _SKIP = frozenset({"script", "style", "noscript", "template", "head"})
    _BLOCK = frozenset(
        {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "article"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self._skipping = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in self._SKIP:
            self._skipping += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in self._SKIP and self._skipping:
            self._skipping -= 1
        elif tag in self._BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._skipping:
            self.parts.append(data)


def html_to_text(html: str) -> tuple[str, str | None]:
    """Visible text of an HTML page (paragraphs kept apart) and its <title>, if any."""
    parser = _TextOfHtml()
    parser.feed(html)
    parser.close()
    lines = (
        re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in "".join(parser.parts).split("\n")
    )
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
    title = " ".join("".join(parser.title).split()) or None
    return text, title


_ISO_DATE = re.compile(r"\b(20\d\d|19\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")


def first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return None


def published_date(text: str) -> str | None:
    """An ISO date written near the top of the article (its first five lines), else None."""
    head = "\n".join(text.splitlines()[:5])
    found = _ISO_DATE.search(head)
    return found.group(0) if found else None


def parse(source: str, raw: bytes) -> Article:
    """Decode and parse one input.

    Raises:
        InputError: the bytes are binary, not UTF-8, empty or too large.
    """
    if len(raw) > MAX_BYTES:
        raise InputError(
            f"{source}: {len(raw):,} bytes is more than the {MAX_BYTES:,} an article may have; "
            "split it into articles or pass only the article text"
        )
    if b"\x00" in raw[:8192]:
        raise InputError(
            f"{source}: looks binary (NUL bytes); pass a UTF-8 text, Markdown or HTML file"
        )
    try:
        decoded = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{source}: not valid UTF-8 (byte {exc.start}); convert it first, "
            f"e.g. iconv -f cp1251 -t utf-8 {source} > fixed.txt"
        ) from None
    title: str | None
    if source.lower().endswith((".html", ".htm")) or decoded.lstrip()[:15].lower().startswith(
        ("<!doctype html", "<html")
    ):
        text, title = html_to_text(decoded)
        title = title or first_line(text)
    else:
        text = decoded
        title = first_line(text)
    if not text.strip():
        raise InputError(f"{source}: holds no text; remove it from the inputs or fill it")
    return Article(
        source=source,
        text=text,
        title=title,
        published=published_date(text),
        language=detect_language(text),
    )


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


def expand(paths: list[str]) -> list[str]:
    """The input files named by ``paths``: files as given, directories' article files sorted.

    Raises:
        InputError: a path does not exist, or a directory holds no article files.
    """
    return expand_reporting(paths)[0]


def expand_reporting(paths: list[str]) -> tuple[list[str], list[str]]:
    """``expand``, and the files inside the directories that were passed over because they are
    not articles by their suffix (hidden files are passed over without a word).

    Raises:
        InputError: a path does not exist, or a directory holds no article files.
    """
    found: list[str] = []
    skipped: list[str] = []
    for given in paths:
        if given == "-":
            found.append(given)
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            inside = [str(p) for p in files if p.suffix.lower() in SUFFIXES]
            skipped.extend(str(p) for p in files if p.suffix.lower() not in SUFFIXES)
            if not inside:
                raise InputError(
                    f"{given}: no article files ({', '.join(SUFFIXES)}) in this directory"
                )
            found.extend(inside)
        elif path.is_file():
            found.append(given)
        else:
            raise InputError(f"{given}: no such file or directory")
    return found, skipped


def read(sources: list[str]) -> Iterator[Article | Unreadable]:
    """Read each source in order; a source that cannot be read yields ``Unreadable``."""
    for source in sources:
        try:
            raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        except OSError as exc:
            yield Unreadable(source, InputError(f"{source}: cannot be read ({exc.strerror})"))
            continue
        try:
            yield parse(source, raw)
        except InputError as exc:
            yield Unreadable(source, exc)
