"""The one JSONL reader, appender and atomic writer (``extractor.io.files``) every module uses."""

from __future__ import annotations

import errno
import json
import os
import stat
from pathlib import Path

import pytest

from extractor.errors import ConfigError, InputError
from extractor.io import files


def test_a_strict_read_names_the_file_and_line_of_a_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\n\n  \n{"a": 2}\n{oops\n')
    lines = files.read_jsonl(path, json.loads, fix="write it again")
    with pytest.raises(InputError) as caught:
        list(lines)
    assert str(caught.value) == (
        f"{path}:5: invalid JSON at column 2 (Expecting property name enclosed in double "
        "quotes); write it again"
    )


def test_a_strict_read_numbers_lines_from_one_and_skips_blank_ones(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\n\n{"a": "x\xe2\x80\xa8y"}')  # no final newline; a raw U+2028
    read = [(line.number, line.value) for line in files.read_jsonl(path, json.loads)]
    assert read == [(1, {"a": 1}), (3, {"a": "x\u2028y"})]


def test_a_line_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": "\xff"}\n')
    with pytest.raises(InputError, match=r"a\.jsonl:2: not UTF-8; convert it"):
        list(files.read_jsonl(path, json.loads, fix="convert it"))


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere\.jsonl: cannot be read \(No such file"):
        list(files.read_jsonl(tmp_path / "nowhere.jsonl", json.loads))


def test_reading_what_a_kill_left_skips_a_cut_line_and_lines_that_do_not_parse(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\nnot json\n{"a": 3}\n{"a": 4}')  # the last line has no "\n"
    skipped: list[tuple[int, str]] = []
    lines = files.read_jsonl(path, json.loads, skipped=lambda n, why: skipped.append((n, why)))
    assert [(line.number, line.text) for line in lines] == [(1, '{"a": 1}\n'), (3, '{"a": 3}\n')]
    assert skipped == [(2, "invalid JSON at column 1 (Expecting value)"), (4, "cut short")]


def test_the_appender_drops_a_cut_line_then_appends_whole_lines(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\n{"a": 2')
    with files.Appender(path) as out:
        out.append('{"a": 3}\n')
    assert path.read_bytes() == b'{"a": 1}\n{"a": 3}\n'
    with files.Appender(tmp_path / "new.jsonl") as out:
        out.append("x\n")
    assert (tmp_path / "new.jsonl").read_text() == "x\n"


def test_an_append_that_fails_is_one_line_saying_what_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.jsonl"

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    with files.Appender(path, kept="the lines before are kept") as out:
        monkeypatch.setattr(os, "fsync", full)
        with pytest.raises(ConfigError) as caught:
            out.append("x\n")
    assert str(caught.value) == (
        f"cannot write {path}: the disk is full (No space left on device); free space or "
        "choose another disk; the lines before are kept"
    )


def test_write_atomic_writes_text_or_bytes_with_the_umask_permissions(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        files.write_atomic(tmp_path / "a.txt", "één\n")
        files.write_atomic(tmp_path / "b.bin", b"\x00\x01")
    finally:
        os.umask(old)
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") == "één\n"
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "b.bin"]


def test_replacing_leaves_the_old_file_and_no_temporary_file_when_the_block_fails(
    tmp_path: Path,
) -> None:
    path = tmp_path / "a.txt"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), files.replacing(path) as handle:
        handle.write("new\n")
        raise RuntimeError("the writer failed")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]
