"""The project's files, read and written one way: JSON Lines read line by line, lines appended
whole and on disk, and files replaced whole or not at all.

- ``read_jsonl`` splits on ``"\\n"`` only (a raw U+2028 inside a JSON string is text, not a
  line break), skips blank lines and numbers the others from 1. Read strictly, a line that is
  not UTF-8 or does not parse stops with ``PATH:LINE: why; fix``. Read for resumption (a
  ``skipped`` callback given), such a line, and a last line a kill cut short (no ``"\\n"``), is
  passed to the callback and left out.
- ``Appender`` appends one whole line at a time, flushed and fsynced before ``append``
  returns; opening it first drops a last line a kill cut short, so the next line starts afresh.
- ``write_atomic`` and ``replacing`` write a temporary file beside the target (same directory,
  hence same filesystem), fsync it and rename it over the target: a reader sees the old file or
  the new one, never a part, and a failure (a full disk) leaves the old file and no temporary
  file behind.

Files that cannot be written raise ``ConfigError`` with the one-line message of
``write_error``, which names the file and what to do.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from pathlib import Path
from typing import IO, Any, Generic, NamedTuple, TypeVar

from ..errors import ConfigError, InputError

T = TypeVar("T")


# --- reading -----------------------------------------------------------------------------------


class Line(NamedTuple, Generic[T]):
    """One line of a JSONL file: its number (from 1), its text (``"\\n"`` included when the
    file has it) and what ``parse`` made of it."""

    number: int
    text: str
    value: T


def _why(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON at column {exc.colno} ({exc.msg})"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def read_jsonl(
    path: str | Path,
    parse: Callable[[str], T],
    *,
    fix: str = "",
    skipped: Callable[[int, str], None] | None = None,
    opener: Callable[[], AbstractContextManager[IO[bytes]]] | None = None,
) -> Iterator[Line[T]]:
    """The lines of a JSONL file, each parsed by ``parse`` (e.g. ``json.loads``), in order.

    Args:
        path: the file (named in messages).
        parse: turns a line's text into its value; raises ``ValueError`` (a JSON or validation
            error) when the line is not what the file should hold.
        fix: what to do about a bad line, ending the message.
        skipped: for reading what a killed writer left (resumption): called with the number
            and reason of each line left out (not UTF-8, not parsed, or a last line without
            its ``"\\n"``) instead of raising.
        opener: opens the file for binary reading (e.g. through fsspec); default ``open``.

    Raises:
        InputError: the file cannot be opened or read; or (strict reading) a line is not UTF-8
            or does not parse: ``PATH:LINE: why; fix``.
    """
    try:
        with opener() if opener is not None else open(path, "rb") as handle:
            for number, raw in enumerate(handle, start=1):
                line, problem = _parsed(raw, number, parse, cut_short=skipped is not None)
                if line is not None:
                    yield line
                elif problem is None:
                    continue  # a blank line
                elif skipped is None:
                    raise InputError(f"{path}:{number}: {problem}" + (f"; {fix}" if fix else ""))
                else:
                    skipped(number, problem)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _parsed(
    raw: bytes, number: int, parse: Callable[[str], T], *, cut_short: bool
) -> tuple[Line[T] | None, str | None]:
    """One line read, or why it cannot be (neither, for a blank line)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    if not text.strip():
        return None, None
    if cut_short and not text.endswith("\n"):
        return None, "cut short"
    try:
        return Line(number, text, parse(text)), None
    except ValueError as exc:
        return None, _why(exc)


# --- writing -----------------------------------------------------------------------------------


def write_error(path: Path, exc: OSError, kept: str = "") -> ConfigError:
    """The one-line error for a file that cannot be written, naming what to do about it;
    ``kept`` says what was not lost."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        why = f"the disk is full ({exc.strerror}); free space or choose another disk"
    elif exc.errno == errno.EFBIG:
        why = (
            f"the file reached the size limit ({exc.strerror}); raise the limit (ulimit -f) "
            "or choose another disk"
        )
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = (
            f"{path.parent} cannot be written ({exc.strerror}); choose a directory you can write to"
        )
    else:
        why = f"{exc.strerror or exc}"
    return ConfigError(f"cannot write {path}: {why}" + (f"; {kept}" if kept else ""))


@contextmanager
def replacing(path: Path, *, binary: bool = False) -> Iterator[IO[Any]]:
    """A handle to write ``path``'s new content to; when the block ends, the content is on disk
    and has replaced ``path``. Concurrent writers of one path each write their own temporary
    file, and the last rename wins.

    Raises:
        OSError: it cannot be written (disk full, no permission); ``path`` is left as it was
            and no temporary file is left behind.
    """
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    # os.open with 0o666 rather than mkstemp (0o600): the file gets the umask's permissions,
    # as one written in place would.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        if binary:
            handle: IO[Any] = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        temporary.unlink(missing_ok=True)
        raise
    try:
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with suppress(OSError):  # the first error is the one to report
            temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: Path, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` whole or not at all (see ``replacing``).

    Raises:
        ConfigError: it cannot be written (disk full, no permission), said by ``write_error``;
            ``path`` is left as it was and no temporary file is left behind.
    """
    try:
        with replacing(path, binary=isinstance(data, bytes)) as handle:
            handle.write(data)
    except OSError as exc:
        raise write_error(path, exc) from None


def _drop_cut_tail(path: Path) -> None:
    """Truncate ``path`` after its last ``"\\n"``: a last line a kill cut short is dropped."""
    with path.open("rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            step = min(65536, position)
            handle.seek(position - step)
            block = handle.read(step)
            at = block.rfind(b"\n")
            if at >= 0:
                position = position - step + at + 1
                break
            position -= step
        if position != end:
            handle.truncate(position)


class Appender:
    """Appends whole lines to a file (created if need be): each is written at once, flushed
    and fsynced before ``append`` returns, so a kill loses at most the line being written.

    Raises (opening and ``append``):
        ConfigError: the file cannot be written, said by ``write_error`` with ``kept``.
    """

    def __init__(self, path: Path, kept: str = "") -> None:
        self.path = path
        self.kept = kept
        self._handle: IO[str] | None = None

    def __enter__(self) -> Appender:
        try:
            if self.path.is_file():
                _drop_cut_tail(self.path)
            self._handle = self.path.open("a", encoding="utf-8")
        except OSError as exc:
            raise write_error(self.path, exc) from None
        return self

    def append(self, line: str) -> None:
        """Append ``line`` (ending in ``"\\n"``) and have it on disk."""
        if self._handle is None:
            raise RuntimeError("Appender.append outside its with block")
        try:
            self._handle.write(line)
            self._handle.flush()
            os.fsync(self._handle.fileno())
        except OSError as exc:
            raise write_error(self.path, exc, self.kept) from None

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        handle, self._handle = self._handle, None
        if handle is None:
            return
        try:
            handle.close()  # writes what a failed append left in the buffer, if it now can
        except OSError as error:
            if kind is None:  # else the error that ends the block is the one to report
                raise write_error(self.path, error, self.kept) from None


__all__ = ["Appender", "Line", "read_jsonl", "replacing", "write_atomic", "write_error"]
