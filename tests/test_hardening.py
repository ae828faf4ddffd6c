"""Hostile surroundings: a second process on the same output, a full disk, an unwritable
directory, PostgreSQL refusing what SQLite takes, loads at the same time, credentials in the
server URL, a re-run hint with spaces, endless standard input, UTF-16, a foreign cache entry.

The model answers are hand-built (``test_runner.Server``, ``test_batch.answer``); the database
cases run against SQLite and the real PostgreSQL server (``test_sink.db_url``).
"""

from __future__ import annotations

import errno
import json
import os
import resource
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from handbuilt import LoopbackServer, Script, ok, status
from test_batch import answer, answer_offline, lines_of, prepare
from test_runner import Server, answer_for, articles
from test_sink import _postgres, db_url, seed_records, table_counts  # noqa: F401

from extractor import config
from extractor.cli import cli
from extractor.errors import InputError
from extractor.io import articles as reading
from extractor.io import files
from extractor.outputs import sink
from extractor.runs import batch, cache, runner
from extractor.runs.method import resolve_method

COMMAND = [sys.executable, "-c", "from extractor.cli import main; main()"]
SECRET = "PASSWORD"


def invoke(*args: str, input: Any = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def single(*args: str) -> tuple[str, ...]:
    return (*args, "--strategy", "single", "--no-cache")


def one_error_line(stderr: str) -> str:
    """The CLI's message: one line starting with ``error:``, no traceback."""
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if line.startswith("error:")]
    return line


# --- one output, one run ------------------------------------------------------------------------


def test_a_second_run_on_the_same_output_exits_2_naming_the_first(tmp_path: Path) -> None:
    articles(tmp_path / "first", 5)
    articles(tmp_path / "second", 3)
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Server(delay=2.0)) as server:  # the first run lasts 10 s
        flags = single("-o", str(out), "--base-url", server.base_url, "-q")
        first = subprocess.Popen([*COMMAND, "extract", str(tmp_path / "first"), *flags])
        deadline = time.monotonic() + 60
        while not (tmp_path / "out.jsonl.partial").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        second = subprocess.run(
            [*COMMAND, "extract", str(tmp_path / "second"), *flags],
            capture_output=True,
            text=True,
            timeout=120,
        )
        first.wait(timeout=120)
    assert second.returncode == 2
    assert one_error_line(second.stderr) == (
        f"error: {out} is being written by another extractor run (pid {first.pid}); wait for "
        "it to finish, or choose another -o"
    )
    assert first.returncode == 0
    assert [Path(r["article"]["source"]).parent.name for r in lines_of(out)] == ["first"] * 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "out.jsonl", "second"]


def test_an_output_that_is_an_input_is_refused(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Kyiv asked Washington to guarantee its security.\n")
    before = article.read_bytes()
    code, _, err = invoke(
        "extract", str(tmp_path / "."), "-o", str(article), "--base-url", "http://127.0.0.1:9/v1"
    )
    assert code == 2
    assert one_error_line(err) == (
        f"error: -o {article} is also an input ({article}); write the records to another file"
    )
    assert article.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]


# --- full disk, unwritable directory ----------------------------------------------------------


def full_disk_on(suffix: str) -> Callable[[int], None]:
    """``os.fsync`` that fails with ENOSPC for files whose name ends with ``suffix``."""
    real = os.fsync

    def fsync(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(suffix):
            raise OSError(errno.ENOSPC, "No space left on device")
        real(fd)

    return fsync


@pytest.mark.parametrize(
    ("suffix", "message"),
    [
        (
            ".tmp",
            "error: cannot write {out}: the disk is full (No space left on device); free space "
            "or choose another disk; every record is kept in {out}.partial, and the same "
            "command writes {out} from it",
        ),
        (
            ".partial",
            "error: cannot write {out}.partial: the disk is full (No space left on device); "
            "free space or choose another disk; the records finished before are kept",
        ),
    ],
    ids=["writing the output", "appending a record"],
)
def test_a_full_disk_is_one_line_leaves_no_tmp_and_the_same_command_finishes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str, message: str
) -> None:
    articles(tmp_path / "in", 2)
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Server()) as server:
        command = single("extract", str(tmp_path / "in"), "-o", str(out))
        command = (*command, "--base-url", server.base_url, "-q")
        with monkeypatch.context() as patch:
            patch.setattr(os, "fsync", full_disk_on(suffix))
            code, _, err = invoke(*command)
        assert code == 2
        assert one_error_line(err) == message.format(out=out)
        assert not list(tmp_path.glob("*.tmp")) and not out.exists()
        code, _, err = invoke(*command)
    assert code == 0, err
    assert len(lines_of(out)) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out.jsonl"]


@pytest.fixture
def unwritable(tmp_path: Path) -> Path:
    """A directory this process cannot create files in (root writes anywhere but in /sys)."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir(mode=0o555)
        return folder
    folder = Path("/sys")
    try:
        (folder / "probe").touch()
    except OSError:
        return folder
    pytest.skip("no directory here refuses root")


def test_an_unwritable_output_directory_is_one_line_before_any_request(
    tmp_path: Path, unwritable: Path
) -> None:
    articles(tmp_path / "in", 1)
    out = unwritable / "out.jsonl"
    script = Script([])
    with LoopbackServer(script) as server:
        code, _, err = invoke(
            *single("extract", str(tmp_path / "in"), "-o", str(out), "--base-url", server.base_url)
        )
    assert code == 2
    assert one_error_line(err) == (
        f"error: cannot write {out}: {unwritable} cannot be written (Permission denied); "
        "choose a directory you can write to"
    )
    assert script.requests == []


def test_report_into_an_unwritable_directory_is_one_line(tmp_path: Path, unwritable: Path) -> None:
    records = tmp_path / "r.jsonl"
    records.write_text("".join(r.model_dump_json() + "\n" for r in seed_records()))
    code, _, err = invoke("report", str(records), "-o", str(unwritable / "r.html"))
    assert code == 2
    assert one_error_line(err) == (
        f"error: cannot write {unwritable / 'r.html'}: {unwritable} cannot be written "
        "(Permission denied); choose a directory you can write to"
    )


def test_a_full_disk_under_the_cache_is_a_warning_and_leaves_no_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlite3

    import diskcache

    store = cache.RecordCache(tmp_path / "cache")
    [record, *_] = seed_records()

    def full(*args: Any, **kwargs: Any) -> None:
        # What SQLite raises when a write finds the disk full (SQLITE_FULL).
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(diskcache.Cache, "set", full)
    store.put("ab" * 32, record)
    assert store.write_error == f"{tmp_path / 'cache'}: database or disk is full"
    monkeypatch.undo()
    assert store.get("ab" * 32, record.article.id) is None
    store.close()


def test_a_pickled_entry_in_the_cache_is_refused_not_unpickled(tmp_path: Path) -> None:
    import diskcache

    marker = tmp_path / "unpickled"

    class Payload:
        def __reduce__(self) -> tuple[Any, tuple[Path]]:
            return (Path.touch, (marker,))  # what unpickling it would run

    with diskcache.Cache(str(tmp_path / "cache")) as other:
        other.set("ab" * 32, Payload())  # stored pickled, as diskcache does for objects
    store = cache.RecordCache(tmp_path / "cache")
    [record, *_] = seed_records()
    assert store.get("ab" * 32, record.article.id) is None
    assert not marker.exists()
    store.close()
    with diskcache.Cache(str(tmp_path / "cache")) as plain:
        plain.get("ab" * 32)  # the stock store would have run it
    assert marker.exists()


# --- PostgreSQL takes less than SQLite ----------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    yield from _postgres()


def test_a_nul_byte_anywhere_in_an_input_is_refused() -> None:
    raw = b"Kyiv asked for guarantees. " * 400 + b"\x00 and more text.\n"
    assert len(raw) > 8192
    with pytest.raises(InputError, match=r"^a\.txt: looks binary \(a NUL byte at 10,800\)"):
        reading.parse("a.txt", raw)


@pytest.mark.parametrize(
    ("spoil", "reason"),
    [
        (
            lambda data: data["article"].update(text=data["article"]["text"] + " " * 9000 + "\0"),
            "PostgreSQL text fields cannot contain NUL (0x00) bytes; re-extract that article "
            "(input with NUL bytes is refused now)",
        ),
        (
            lambda data: data["proposals"][0]["evidence"][0].update(start=2**31, end=2**31 + 5),
            "integer out of range; re-extract that article: its record holds a value out of "
            "the database's range",
        ),
    ],
    ids=["NUL after 8 KB", "offset past 2**31"],
)
def test_records_postgresql_refuses_are_one_line_and_load_nothing(
    tmp_path: Path, pg_url: str, spoil: Callable[[dict[str, Any]], None], reason: str
) -> None:
    data = [json.loads(r.model_dump_json()) for r in seed_records()]
    spoilt = next(i for i, d in enumerate(data) if d["proposals"] and d["proposals"][0]["evidence"])
    spoil(data[spoilt])
    path = tmp_path / "r.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in data))
    sqlite = f"sqlite:///{tmp_path / 'r.sqlite'}"
    assert invoke("load", str(path), "--db", sqlite)[0] == 0  # SQLite takes them
    code, _, err = invoke("load", str(path), "--db", pg_url)
    assert code == 2
    source = data[spoilt]["article"]["source"]
    assert one_error_line(err) == (
        f"error: {pg_url} refused record {spoilt + 1} ({source}): {reason}. Nothing was loaded"
    )
    assert table_counts(pg_url) == {}


def load_at_once(url: str, parts: list[list[Any]]) -> list[sink.LoadReport | BaseException]:
    """Load each part in a thread of its own, all started together."""
    start = threading.Barrier(len(parts))
    results: list[sink.LoadReport | BaseException] = [RuntimeError("not run")] * len(parts)

    def load(index: int) -> None:
        start.wait()
        try:
            results[index] = sink.load(parts[index], url)
        except BaseException as exc:  # reported by the assertion below
            results[index] = exc

    threads = [threading.Thread(target=load, args=(i,)) for i in range(len(parts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_first_loads_at_once_into_a_new_database_both_succeed(db_url: str) -> None:  # noqa: F811
    records = seed_records()
    results = load_at_once(db_url, [records, records, records])
    assert all(isinstance(r, sink.LoadReport) for r in results), results
    reports = [r for r in results if isinstance(r, sink.LoadReport)]
    assert sorted(r.added["extractions"] for r in reports) == [0, 0, 5]
    assert sorted(r.skipped for r in reports) == [0, 5, 5]
    assert table_counts(db_url)["extractions"] == 5


def test_overlapping_loads_at_once_both_succeed(db_url: str) -> None:  # noqa: F811
    records = seed_records()
    sink.load(records[:1], db_url)  # the schema is there: the loads race on the rows
    results = load_at_once(db_url, [records[:4], records[1:]])
    assert all(isinstance(r, sink.LoadReport) for r in results), results
    counts = table_counts(db_url)
    assert (counts["articles"], counts["extractions"], counts["extraction_runs"]) == (5, 5, 1)


def test_an_unreachable_database_is_found_before_the_first_request(tmp_path: Path) -> None:
    articles(tmp_path / "in", 1)
    script = Script([])
    url = f"postgresql+psycopg://alice:{SECRET}@127.0.0.1:1/x"
    with LoopbackServer(script) as server:
        code, _, err = invoke(
            *single("extract", str(tmp_path / "in"), "--base-url", server.base_url, "--db", url)
        )
    assert code == 2
    line = one_error_line(err)
    assert line.startswith(
        "error: cannot reach the database postgresql+psycopg://alice:***@127.0.0.1:1/x: "
    )
    assert line.endswith("; start it or correct --db")
    assert script.requests == []


# --- credentials in the server URL ------------------------------------------------------------


def test_a_password_in_the_base_url_is_masked_everywhere(
    tmp_path: Path, private_cache: Path
) -> None:
    first, _ = articles(tmp_path / "in", 2)
    script = Script([ok(answer_for(first.read_text())), status(500), status(500), status(500)])
    seen: list[str] = []
    with LoopbackServer(script) as server:
        url = server.base_url.replace("http://", f"http://alice:{SECRET}@")
        out = tmp_path / "out.jsonl"
        code, stdout, err = invoke(
            *("extract", str(tmp_path / "in"), "-o", str(out), "--base-url", url, "--db"),
            *("--strategy", "single"),
        )
        seen += [stdout, err]
        assert code == 1, err
        records = lines_of(out)
        assert records[0]["provenance"]["base_url"] == url.replace(SECRET, "***")
        assert records[1]["error"]["type"] == "BackendError"
        # The server going away: the message names it, without the password.
        dead = url.rsplit(":", 1)[0] + ":1/v1"
        code, stdout, err = invoke(*single("extract", str(tmp_path / "in"), "--base-url", dead))
        seen += [stdout, err]
        assert "alice:***@127.0.0.1:1/v1" in stdout
        code, stdout, err = invoke("report", str(out), "-o", str(tmp_path / "r.html"))
        seen += [stdout, err]
        code, stdout, err = invoke(
            "batch", "prepare", str(tmp_path / "in"), "-d", str(tmp_path / "job"), "--base-url", url
        )
        seen += [stdout, err]
        code, stdout, err = invoke("extract", "a.txt", "--base-url", "ftp://alice:PASSWORD@x")
        seen += [stdout, err]
        assert one_error_line(err) == (
            "error: base URL 'ftp://alice:***@x' is not an http(s) URL; give e.g. "
            "http://127.0.0.1:8000/v1"
        )
    rows = sink.query(sink.default_url(str(out)), "SELECT base_url FROM extraction_runs")
    assert rows == [{"base_url": url.replace(SECRET, "***")}]
    assert "alice:***@" in (tmp_path / "r.html").read_text()
    assert "alice:***@" in (tmp_path / "job" / batch.MANIFEST).read_text()
    leaks = [
        path
        for folder in (tmp_path, private_cache)
        for path in folder.rglob("*")
        if path.is_file() and SECRET.encode() in path.read_bytes()
    ]
    assert leaks == []
    assert not [text for text in seen if SECRET in text]


def test_masked_keeps_the_user_and_hides_the_password() -> None:
    assert config.masked("http://alice:p@ss@h:8/v1 failed") == "http://alice:***@h:8/v1 failed"
    assert config.masked("http://h:8000/v1 from a@b") == "http://h:8000/v1 from a@b"
    assert config.masked("postgresql+psycopg://u@h/db") == "postgresql+psycopg://u@h/db"


# --- the re-run hint of batch collect ---------------------------------------------------------


def test_the_rerun_hint_of_batch_collect_runs_as_printed(tmp_path: Path) -> None:
    folder = tmp_path / "my articles"
    folder.mkdir()
    (folder / "a b.txt").write_text("Kyiv asked Washington to guarantee its security.\n")
    (folder / "c.txt").write_text("Tbilisi asked Washington to guarantee its security.\n")
    job = tmp_path / "the job"
    with LoopbackServer(Script([answer] * 20)) as server:
        flags = ("--model", "handbuilt-7b", "--mode", "llamacpp")
        prepared = prepare(job, folder, strategy="single", url=server.base_url, extra=flags)
        assert prepared.exit_code == 0
        answer_offline(job, skip=("a000000-r0000",))
        code, _, err = invoke("batch", "collect", str(job / batch.RESULTS), "-o", "-")
        assert code == 1
        lines = err.splitlines()
        printed = lines[lines.index(f"their paths are in {job / 'rerun.txt'}; run:") + 1]
        assert printed == "  " + shlex.join(
            [
                *("extractor", "extract", "--from-file", str(job / "rerun.txt"), "-o"),
                *("more.jsonl", "--base-url", server.base_url, "--model", "handbuilt-7b"),
                *("--mode", "llamacpp", "--strategy", "single"),
            ]
        )
        words = shlex.split(printed)
        assert words[0] == "extractor"
        done = subprocess.run(
            [*COMMAND, *words[1:], "-q"], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr
    [record] = lines_of(tmp_path / "more.jsonl")
    assert record["article"]["source"] == str(folder / "a b.txt")
    provenance = record["provenance"]
    assert (provenance["model"], provenance["mode"], provenance["strategy"]) == (
        "handbuilt-7b",
        "llamacpp",
        "single",
    )


# --- endless standard input, UTF-16, the cache's entries ---------------------------------------


class Endless:
    """A binary stream of ``y\\n`` far longer than an article, counting what was read."""

    def __init__(self, limit: int = 64_000_000) -> None:
        self.left, self.taken = limit, 0

    def read(self, size: int = -1) -> bytes:
        size = self.left if size is None or size < 0 else min(size, self.left)
        self.left -= size
        self.taken += size
        return b"y\n" * (size // 2) + b"y" * (size % 2)


def test_standard_input_is_read_up_to_the_cap_only() -> None:
    stream = Endless()
    with pytest.raises(InputError, match=r"^-: more than the 2,000,000 bytes an article may have"):
        reading.read_capped(stream, "-")  # type: ignore[arg-type]
    assert stream.taken == reading.MAX_BYTES + 1


def test_yes_piped_into_extract_stops_at_the_cap(tmp_path: Path) -> None:
    def limit_memory() -> None:  # a run that read the whole stream would fail here
        resource.setrlimit(resource.RLIMIT_AS, (1_500_000_000, 1_500_000_000))

    yes = subprocess.Popen(["yes"], stdout=subprocess.PIPE)
    assert yes.stdout is not None
    try:
        done = subprocess.run(
            [*COMMAND, "extract", "-", "--base-url", "http://127.0.0.1:9/v1", "-q"],
            stdin=yes.stdout,
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=limit_memory,
        )
    finally:
        yes.send_signal(signal.SIGTERM)
        yes.wait()
        yes.stdout.close()
    assert done.returncode == 1, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["error"] == {
        "type": "InputError",
        "message": "-: more than the 2,000,000 bytes an article may have; split it into "
        "articles or pass only the article text",
    }


def test_utf16_with_a_byte_order_mark_is_read_and_without_one_is_named() -> None:
    text = "Киев просит гарантий безопасности.\nKyiv asks for guarantees.\n"
    for encoding in ("utf-16", "utf-16-le", "utf-16-be"):
        raw = text.encode(encoding)
        if encoding == "utf-16":
            assert reading.parse("a.txt", raw).text == text
            continue
        name = encoding.replace("-le", "le").replace("-be", "be").upper()
        with pytest.raises(InputError) as caught:
            reading.parse("a.txt", raw)
        assert str(caught.value) == (
            f"a.txt: looks like {name} without a byte-order mark; convert it first, e.g. "
            f"iconv -f {name.lower()} -t utf-8 a.txt > fixed.txt"
        )
    assert reading.parse("b.txt", "\ufeffKyiv asks.\n".encode("utf-16-be")).text == "Kyiv asks.\n"


def test_a_cache_entry_is_served_only_for_its_own_article(tmp_path: Path) -> None:
    store = cache.RecordCache(tmp_path / "cache")
    first, second, *_ = seed_records()
    settings = config.resolve(base_url="http://127.0.0.1:9/v1", env={})
    wanted = cache.key(first.article.id, resolve_method(settings))
    store.put(wanted, second)  # a file copied or written under another article's key
    assert store.get(wanted, first.article.id) is None
    store.put(wanted, first)
    got = store.get(wanted, first.article.id)
    assert got is not None and got.article.id == first.article.id


def test_write_atomic_leaves_the_old_file_and_no_tmp_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "out.json"
    path.write_text("old\n")
    monkeypatch.setattr(os, "fsync", full_disk_on(".tmp"))
    with pytest.raises(runner.ConfigError, match="the disk is full"):
        files.write_atomic(path, "new\n")
    assert path.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]
