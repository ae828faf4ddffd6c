"""Turn inputs (files, directories, stdin, JSONL and Parquet article tables on any filesystem
fsspec reaches) into articles with title, date, language and the table's metadata."""

from __future__ import annotations

import codecs
import datetime as dt
import functools
import hashlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields, replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, BinaryIO

from ..core.normalize import detect_language
from ..errors import ConfigError, InputError
from .files import read_jsonl

SUFFIXES = (".txt", ".md", ".html", ".htm")
# Article tables: one row per article.
DATASET_SUFFIXES = (".jsonl", ".ndjson", ".parquet")
MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class Article:
    """One article as read. ``source`` names where it came from: the path as given, or for a
    row of an article table its ``id`` (else ``PATH#ROW``); ``url`` and ``outlet`` come from
    the table's columns when it has them."""

    source: str
    text: str
    title: str | None
    published: str | None
    language: str
    url: str | None = None
    outlet: str | None = None

    @property
    def id(self) -> str:
        return text_id(self.text)


def text_id(text: str) -> str:
    """The id of an article of ``text``: ``sha256:`` and the hex digest of its UTF-8 bytes."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


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
    """Visible text of an HTML page (paragraphs kept apart) and its <title>, if any: the
    fallback for a page in which ``main_text`` finds no article body."""
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


# Lines at the top of a saved page that are no title: a run of icon names ("icon
# bookmark-bicon bookmarkicon cameraicon…"), a date or time alone ("1 Apr, 2022 14:18"), a
# breadcrumb glued to "Home" ("HomeRussia & FSU").
_ICONS = re.compile(r"icon\b", re.IGNORECASE)
_MONTHS = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?(?![a-z])",
    re.IGNORECASE,
)
_DATE_LEFTOVER = re.compile(
    r"[\d\s.,:/\-\u2013\u2014]*(?:st|nd|rd|th|am|pm|utc|gmt)?[\d\s.,:/\-\u2013\u2014]*"
)
_BREADCRUMB = re.compile(r"^Home(?:[A-Z]|\s*[>/\u203a\u00bb|])")
TITLE_CHARS = 300


@functools.cache
def _markdown() -> Any:
    """A CommonMark parser for one line, lists left alone ("1. A year on" stays as written)."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").disable(["list", "code"])


def clean_title(line: str) -> str | None:
    """A title as a reader sees it: Markdown (``# ``, ``**…**``, links) and HTML tags
    (``<span style=…>``) taken off, entities decoded, spaces folded; None when nothing is
    left. Markdown is rendered by markdown-it-py and the HTML reduced to its text by the same
    parser as an HTML page's visible text."""
    if not line.strip():
        return None
    rendered = _markdown().render(line.strip())
    text, _ = html_to_text(rendered)
    folded = " ".join(text.split())
    return folded[:TITLE_CHARS] or None


def _boilerplate(title: str) -> bool:
    if len(_ICONS.findall(title)) >= 3 or _BREADCRUMB.match(title):
        return True
    return bool(_DATE_LEFTOVER.fullmatch(_MONTHS.sub(" ", title)))


_FONT_SIZE = re.compile(r"font-size:\s*([\d.]+)\s*pt", re.IGNORECASE)


def _largest_styled(text: str) -> str | None:
    """Where an article opens with lines styled by font size (a page exported with its
    styles: a section kicker at 14.9pt, the headline at 21pt, the standfirst at 14.9pt), the
    line set largest among those opening lines; else None."""
    sizes: list[tuple[float, str]] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        found = _FONT_SIZE.findall(line)
        if not found or len(sizes) >= 6:
            break
        sizes.append((max(float(size) for size in found), line))
    if len(sizes) < 2:
        return None
    largest = max(size for size, _ in sizes)
    return next(line for size, line in sizes if size == largest)


def first_line(text: str) -> str | None:
    """The article's title as its text gives it: the first line with words in it once
    Markdown and HTML are taken off, passing over a saved page's boilerplate (icon names, a
    date alone, a breadcrumb), or among opening lines styled by font size the largest; else
    the first non-empty line."""
    styled = _largest_styled(text)
    if styled is not None and (title := clean_title(styled)) is not None:
        return title
    fallback: str | None = None
    for number, line in enumerate(text.splitlines()):
        title = clean_title(line)
        if title is None:
            continue
        if not _boilerplate(title):
            return title
        fallback = fallback or title
        if number > 20:  # a title is near the top; past that, keep the first line
            break
    return fallback


def main_text(html: str) -> tuple[str, str | None, str | None]:
    """The article body of an HTML page, its title and its publication date (ISO), through
    trafilatura (navigation, footers, cookie notices and comments left out) and htmldate
    (meta tags, structured data, the URL, then the text); the page's visible text when
    trafilatura finds no body in it."""
    import htmldate
    import trafilatura

    body = trafilatura.extract(html, favor_precision=True, include_comments=False)
    metadata = trafilatura.extract_metadata(html)
    visible, title = html_to_text(html)
    title = (metadata.title if metadata is not None else None) or title
    try:
        published = htmldate.find_date(html, outputformat="%Y-%m-%d", original_date=True)
    except ValueError:  # a page htmldate cannot parse at all
        published = None
    return (body if body and body.strip() else visible), title, published


_FOUR_DIGIT_YEAR = re.compile(r"\b(1[89]\d\d|2\d\d\d)\b")


def published_date(text: str, language: str | None = None) -> str | None:
    """A date with day, month and year written near the top of the article (its first five
    lines: ``2022-03-30``, ``March 29, 2022``, ``29 марта 2022 года``), as an ISO date; else
    None. Relative dates ("a week ago") are not publication dates and are passed over."""
    head = "\n".join(text.splitlines()[:5])
    found = _ISO_DATE.search(head)
    if found:
        return found.group(0)
    if not _FOUR_DIGIT_YEAR.search(head):
        return None  # nothing dateparser could turn into a full date; it is slow to say so
    from dateparser.search import search_dates

    languages = [language] if language in ("en", "ru", "uk") else None
    for phrase, when in (
        search_dates(head, languages=languages, settings={"STRICT_PARSING": True}) or []
    ):
        if str(when.year) in phrase:
            found_date: str = when.date().isoformat()
            return found_date
    return None


def _utf16_without_bom(raw: bytes) -> str | None:
    """``utf-16le`` or ``utf-16be`` when the bytes read as UTF-16 text with no byte-order mark,
    else None.

    UTF-16 writes the characters of the ASCII range (spaces, digits, punctuation, Latin
    letters) with a NUL byte, the second of the pair in little-endian order and the first in
    big-endian: in text, every NUL is on one side, and the text decoded in that order is
    printable. In Cyrillic text only spaces and punctuation have a NUL (a fifth of the
    characters or fewer), so how many there are says nothing; that there are none on the other
    side and that the text reads does. Binary data has NUL bytes on both sides, or does not read.
    (No maintained library says this: charset detectors look for a byte-order mark.)
    """
    head = raw[:8192]
    pairs = len(head) // 2
    if pairs < 2:
        return None
    for name, offset in (("utf-16le", 1), ("utf-16be", 0)):
        if head[offset::2][:pairs].count(0) == 0 or head[1 - offset :: 2][:pairs].count(0) > 0:
            continue
        try:  # incremental: a pair of surrogates cut at the end of the head is not an error
            text = codecs.getincrementaldecoder(name)().decode(head)
        except UnicodeDecodeError:
            continue
        readable = sum(char.isprintable() or char in "\n\r\t" for char in text)
        if readable >= 0.95 * len(text):
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
        # Not UTF-8 is refused with the command that converts it rather than decoded by a
        # guess (charset-normalizer): on short texts a guess can be wrong without a sign, e.g.
        # a KOI8-R headline read as Thai (cp874), and every offset would index that garbage.
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
    return from_text(source, decoded, html=source.lower().endswith((".html", ".htm")))


def _looks_like_html(text: str) -> bool:
    return text.lstrip()[:15].lower().startswith(("<!doctype html", "<html"))


def from_text(source: str, decoded: str, *, html: bool = False) -> Article:
    """The article of a decoded text: an HTML page (``html``, or one that starts like one) is
    reduced to its main text, and title, date and language are found.

    Raises:
        InputError: no text is left.
    """
    title: str | None
    published: str | None = None
    if html or _looks_like_html(decoded):
        text, title, published = main_text(decoded)
        title = title or first_line(text)
    else:
        text = decoded
        title = first_line(text)
    if not text.strip():
        raise InputError(f"{source}: holds no text; remove it from the inputs or fill it")
    language = detect_language(text)
    return Article(
        source=source,
        text=text,
        title=title,
        published=published or published_date(text, language),
        language=language,
    )


@dataclass(frozen=True)
class Columns:
    """Which column of an article table holds each field (``--columns text=body,url=link``)."""

    text: str = "text"
    id: str = "id"
    url: str = "url"
    outlet: str = "outlet"
    title: str = "title"
    published: str = "published"

    @classmethod
    def parse(cls, spec: str | None) -> Columns:
        """``FIELD=COLUMN`` pairs separated by commas, over the defaults.

        Raises:
            ConfigError: an unknown field or a pair without ``=``.
        """
        names = [f.name for f in fields(cls)]
        chosen: dict[str, str] = {}
        for pair in filter(None, (part.strip() for part in (spec or "").split(","))):
            field_name, eq, column = pair.partition("=")
            if not eq or not column.strip() or field_name.strip() not in names:
                raise ConfigError(
                    f"--columns {pair!r}: give FIELD=COLUMN pairs, FIELD one of "
                    f"{', '.join(names)}, e.g. --columns text=body,url=link"
                )
            chosen[field_name.strip()] = column.strip()
        return replace(cls(), **chosen)


def is_dataset(path: str) -> bool:
    """Whether ``path`` names an article table (JSONL or Parquet) rather than an article."""
    return path.lower().endswith(DATASET_SUFFIXES)


def _filesystem(path: str) -> tuple[Any, str]:
    import fsspec

    try:
        fs, where = fsspec.core.url_to_fs(path)
    except (ImportError, ValueError) as exc:
        raise ConfigError(
            f"{path}: cannot open this filesystem ({exc}); install its fsspec package"
        ) from None
    return fs, str(where)


def _table_rows(path: str) -> list[dict[str, Any]]:
    """The rows of a JSONL or Parquet table, local or on any filesystem fsspec reaches.

    Raises:
        InputError: the file is missing or is not a table of that format.
    """
    fs, where = _filesystem(path)
    if not path.lower().endswith(".parquet"):
        if not fs.isfile(where):
            raise InputError(f"{path}: no such file")
        lines = read_jsonl(
            path,
            _row,
            fix="each line must be one article, a JSON object",
            opener=lambda: fs.open(where, "rb"),
        )
        return [line.value for line in lines]
    try:
        import pyarrow.parquet as pq

        rows: list[dict[str, Any]] = pq.read_table(where, filesystem=fs).to_pylist()
        return rows
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (ValueError, OSError) as exc:  # Arrow and filesystem errors
        raise InputError(f"{path}: not a readable Parquet article table ({exc})") from None


def _row(line: str) -> dict[str, Any]:
    """A row of a JSONL article table.

    Raises:
        ValueError: the line is not JSON, or not an object.
    """
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    return row


def _optional(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _iso_date(value: object) -> str | None:
    """A table's date cell (a date, a timestamp or a string in any language) as an ISO date."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()[:10]
    text = _optional(value)
    if text is None:
        return None
    if _ISO_DATE.match(text):
        return text[:10]
    import dateparser

    parsed = dateparser.parse(text, settings={"STRICT_PARSING": True})
    return parsed.date().isoformat() if parsed else None


_SURROGATE = re.compile("[\ud800-\udfff]")


def unstorable(text: str) -> str | None:
    """What in ``text`` no record can hold, or None: a NUL (PostgreSQL cannot store it in a
    text, so a file holding one is refused as binary) or a lone surrogate (half a UTF-16
    character, as a JSON escape such as ``\\ud800`` can give: UTF-8 cannot write it)."""
    at = text.find("\x00")
    if at >= 0:
        return f"a NUL character at {at:,}"
    found = _SURROGATE.search(text)
    if found is not None:
        return f"a lone surrogate (U+{ord(found.group()):04X}) at {found.start():,}"
    return None


def _unstorable_cell(row: dict[str, Any], columns: Columns) -> tuple[str, str] | None:
    """The first column of ``row`` an article is read from whose text no record can hold,
    and what it holds."""
    for name in dict.fromkeys(getattr(columns, f.name) for f in fields(columns)):
        value = row.get(name)
        problem = unstorable(value) if isinstance(value, str) else None
        if problem is not None:
            return name, problem
    return None


def table_articles(path: str, columns: Columns) -> Iterator[Article | Unreadable]:
    """One article per row of a JSONL or Parquet table; a row without text is ``Unreadable``.

    Raises:
        InputError: the table cannot be read.
        ConfigError: the table has no text column (the message names the flag that maps one).
    """
    rows = _table_rows(path)
    # The columns are those of every row (a JSONL table's rows need not share theirs).
    if rows and not any(columns.text in row for row in rows):
        present = {name for row in rows for name in row}
        raise ConfigError(
            f"{path}: no column {columns.text!r} for the article text (columns: "
            f"{', '.join(sorted(present))}); name it with --columns text=COLUMN"
        )
    for number, row in enumerate(rows):
        source = _optional(row.get(columns.id)) or f"{path}#{number}"
        held = _unstorable_cell(row, columns)
        if held is not None:
            column, problem = held
            if column == columns.id:
                source = f"{path}#{number}"
            yield Unreadable(
                source,
                InputError(
                    f"{source}: row {number} of {path} has {problem} in column {column!r}, "
                    "which no record can hold; remove it or drop the row"
                ),
            )
            continue
        raw = row.get(columns.text)
        if not isinstance(raw, str) or not raw.strip():
            yield Unreadable(
                source,
                InputError(
                    f"{source}: row {number} of {path} has no text in column {columns.text!r}; "
                    "fill it or drop the row"
                ),
            )
            continue
        if len(raw.encode("utf-8")) > MAX_BYTES:
            yield Unreadable(
                source,
                InputError(
                    f"{source}: more than the {MAX_BYTES:,} bytes an article may have; "
                    "pass only the article text"
                ),
            )
            continue
        try:
            article = from_text(source, raw)
        except InputError as exc:
            yield Unreadable(source, exc)
            continue
        given_title = _optional(row.get(columns.title))
        yield replace(
            article,
            title=(clean_title(given_title) if given_title else None) or article.title,
            published=_iso_date(row.get(columns.published)) or article.published,
            url=_optional(row.get(columns.url)),
            outlet=_optional(row.get(columns.outlet)),
        )


def _hidden(relative: Path) -> bool:
    return any(part.startswith(".") for part in relative.parts)


# A folder's own documentation: README.md, SOURCES.md, LICENSE.txt, CHANGELOG.md, NOTES.txt.
_DOCUMENTATION = re.compile(r"[A-Z][A-Z0-9_-]*[A-Z][A-Z0-9_-]*")


def is_article_file(path: Path) -> bool:
    """Whether a file found in a directory is an article: an article suffix (``SUFFIXES``), and
    not the folder's documentation, a name in capitals (``README.md``, ``SOURCES.md``,
    ``LICENSE.txt``), which collections of articles keep beside them. A file named on the
    command line is read whatever its name."""
    return path.suffix.lower() in SUFFIXES and not _DOCUMENTATION.fullmatch(path.stem)


def expand(paths: list[str]) -> list[str]:
    """The input files named by ``paths``: files as given, directories' article files sorted.

    Raises:
        InputError: a path does not exist, or a directory holds no article files.
    """
    return expand_reporting(paths)[0]


def expand_reporting(paths: list[str]) -> tuple[list[str], list[str]]:
    """``expand``, and the files inside the directories that were passed over because they are
    not articles by their suffix or name (``is_article_file``; hidden files are passed over
    without a word).

    Raises:
        InputError: a path does not exist, or a directory holds no article files.
    """
    found: list[str] = []
    skipped: list[str] = []
    for given in paths:
        if given == "-" or (is_dataset(given) and "://" in given):
            found.append(given)  # stdin, or a table on another filesystem: read when read
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            inside = [str(p) for p in files if is_article_file(p)]
            skipped.extend(str(p) for p in files if not is_article_file(p))
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


def read(sources: Iterable[str], columns: Columns | None = None) -> Iterator[Article | Unreadable]:
    """Read each source in order, an article table row by row; a source (or row) that cannot
    be read yields ``Unreadable``.

    Raises:
        ConfigError: an article table has no text column.
        InputError: an article table cannot be read at all.
    """
    for source in sources:
        if _SURROGATE.search(source):  # a file name that is not UTF-8: Python escapes its bytes
            shown = source.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            yield Unreadable(shown, InputError(f"{shown}: the file's name is not UTF-8; rename it"))
            continue
        if is_dataset(source):
            yield from table_articles(source, columns or Columns())
            continue
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
