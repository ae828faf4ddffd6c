"""Turn command-line inputs (files, directories, stdin) into articles with title, date, language."""

from __future__ import annotations

import codecs
import hashlib
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO

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


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16le`` or ``utf-16be`` when the bytes look like UTF-16 text with no byte-order
    mark (most of every other byte NUL, as Latin and Cyrillic text has it), else None."""
    head = raw[:8192]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    for name, offset in (("utf-16le", 1), ("utf-16be", 0)):
        nul = head[offset::2][:pairs].count(0)
        other = head[1 - offset :: 2][:pairs].count(0)
        if nul >= 0.3 * pairs and other <= 0.05 * pairs:
            return name
    return None


def _decode(source: str, raw: bytes) -> str:
    """The text of ``raw``: UTF-8 (a BOM allowed), or UTF-16 with its byte-order mark.

    UTF-16 is taken only when a byte-order mark comes with NUL bytes: every text holds some
    character of the ASCII range (a space, a line break), which UTF-16 writes with a NUL byte;
    other bytes that happen to begin like a byte-order mark are not UTF-8 and said so.

    Raises:
        InputError: not UTF-8, UTF-16 without a byte-order mark, or binary (a NUL anywhere).
    """
    decoded: str | None = None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" in raw:
        try:
            decoded = raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{source}: starts as UTF-16 but byte {exc.start} is not; convert it first, "
                f"e.g. iconv -f utf-16 -t utf-8 {source} > fixed.txt"
            ) from None
        position = decoded.find("\x00")
    else:
        # The whole input, not only its head: databases such as PostgreSQL cannot store NUL.
        position = raw.find(b"\x00")
        utf16 = _utf16_without_bom(raw) if position >= 0 else None
        if utf16 is not None:
            raise InputError(
                f"{source}: looks like {utf16.upper()} without a byte-order mark; convert it "
                f"first, e.g. iconv -f {utf16} -t utf-8 {source} > fixed.txt"
            )
    if position >= 0:
        raise InputError(
            f"{source}: looks binary (a NUL byte at {position:,}); pass a UTF-8 text, "
            "Markdown or HTML file"
        )
    if decoded is None:
        try:
            decoded = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{source}: not valid UTF-8 (byte {exc.start}); convert it first, "
                f"e.g. iconv -f cp1251 -t utf-8 {source} > fixed.txt"
            ) from None
    return decoded


def read_capped(handle: BinaryIO, source: str) -> bytes:
    """At most ``MAX_BYTES`` of ``handle``; memory stays bounded however long the stream is.

    Raises:
        InputError: the stream holds more than ``MAX_BYTES``.
    """
    raw = handle.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise InputError(
            f"{source}: more than the {MAX_BYTES:,} bytes an article may have; split it into "
            "articles or pass only the article text"
        )
    return raw


def parse(source: str, raw: bytes) -> Article:
    """Decode and parse one input.

    Raises:
        InputError: the bytes are binary, not UTF-8 or UTF-16 with its byte-order mark, empty
            or too large.
    """
    if len(raw) > MAX_BYTES:
        raise InputError(
            f"{source}: {len(raw):,} bytes is more than the {MAX_BYTES:,} an article may have; "
            "split it into articles or pass only the article text"
        )
    decoded = _decode(source, raw)
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
            if source == "-":
                raw = read_capped(sys.stdin.buffer, source)
            else:
                with Path(source).open("rb") as handle:
                    raw = read_capped(handle, source)
            yield parse(source, raw)
        except OSError as exc:
            yield Unreadable(source, InputError(f"{source}: cannot be read ({exc.strerror})"))
        except InputError as exc:
            yield Unreadable(source, exc)
