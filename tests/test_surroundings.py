"""Hostile surroundings, most of them through the command line in a process of its own: a port
already taken, a tampered cache entry, a cached record met under other metadata, a server
echoing the API key, answers of megabytes, a table whose text column comes late, spreadsheet
formulas in an export.

The model answers are hand-built (``handbuilt``, ``test_runner.Server``); nothing here came
from a model.
"""

from __future__ import annotations

import csv
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import diskcache
import httpx2
import pyarrow.parquet as pq
import pytest
from handbuilt import LoopbackServer, Script, draft_json, handbuilt_completion
from test_runner import Server
from test_sink import seed_records

from extractor.core import build
from extractor.model import client

COMMAND = [sys.executable, "-c", "from extractor.cli import main; main()"]
ARTICLE = "Ukraine asked the US to guarantee its security within 72 hours.\n"
GOOD = draft_json(
    quote="Ukraine asked the US to guarantee its security",
    summary="Ukraine asks the US.",
    guarantors=[{"name": "the US", "quote": "the US"}],
)


def cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own (the environment's key and cache replaced by ``env``)."""
    environment = {k: v for k, v in os.environ.items() if k != "OPENAI_API_KEY"}
    return subprocess.run(
        [*COMMAND, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**environment, **(env or {})},
    )


def one_error_line(stderr: str) -> str:
    """The CLI's message: one line starting with ``error:``, no traceback."""
    assert "Traceback" not in stderr
    [line] = [line for line in stderr.splitlines() if line.startswith("error:")]
    return line


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# --- a port already taken ---------------------------------------------------------------------


@pytest.fixture
def squatter() -> Iterator[int]:
    """Another program on a loopback port, answering every GET (``/v1/models`` too) with 200."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"object": "list", "data": []}'
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def test_serve_on_a_port_another_program_holds_exits_2_at_once(squatter: int) -> None:
    try:
        done = cli("serve", "--port", str(squatter), timeout=60)
    except subprocess.TimeoutExpired as exc:  # it took the squatter's answer for the server's
        raise AssertionError(f"serve did not stop: {exc.stderr!r}") from None
    assert done.returncode == 2, done.stderr
    assert one_error_line(done.stderr) == (
        f"error: port {squatter} on 127.0.0.1 is already in use by another process; stop it, "
        "or choose another --port"
    )
    assert "serving" not in done.stderr


def test_a_server_is_not_started_where_another_process_listens(squatter: int) -> None:
    from extractor.errors import BackendError
    from extractor.model.embedded import Supervised

    url = f"http://127.0.0.1:{squatter}/v1"
    server = Supervised([sys.executable, "-c", "pass"], url, Path(os.devnull), timeout=30)
    with pytest.raises(BackendError, match=f"another process listens on port {squatter}"):
        server.ensure()
    server.stop()


def test_a_free_port_is_seen_as_free() -> None:
    from extractor.model.embedded import port_taken

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.listen()
        assert port_taken("127.0.0.1", port)
    assert not port_taken("127.0.0.1", port)


# --- the record cache -------------------------------------------------------------------------


def extract(folder: Path, url: str, *paths: Path, out: str, key: str = "") -> Any:
    """``extract`` of ``paths`` through the record cache in ``folder / 'cache'``."""
    env = {"EXTRACTOR_CACHE_DIR": str(folder / "cache")}
    if key:
        env["OPENAI_API_KEY"] = key
    return cli(
        *("extract", *map(str, paths), "-o", str(folder / out), "--base-url", url),
        *("--strategy", "single", "-q"),
        env=env,
    )


def test_a_cache_entry_whose_text_was_altered_is_not_served(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text("Article 1 says Ukraine asked the US to guarantee its security.\n")
    server = Server()
    with LoopbackServer(server) as loopback:
        assert extract(tmp_path, loopback.base_url, article, out="first.jsonl").returncode == 0
        [database] = (tmp_path / "cache").rglob("cache.db")
        with diskcache.Cache(str(database.parent)) as store:
            [key] = list(store.iterkeys())
            data = json.loads(store[key])
            data["article"]["text"] = data["article"]["text"].replace("US", "UN")  # id kept
            store[key] = json.dumps(data)
        done = extract(tmp_path, loopback.base_url, article, out="second.jsonl")
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 2  # asked again, not served from the altered entry
    [record] = records(tmp_path / "second.jsonl")
    assert record["article"]["text"] == article.read_text()


def test_a_cached_record_carries_the_metadata_of_the_input_it_is_served_for(
    tmp_path: Path,
) -> None:
    text = "Article 1 says Ukraine asked the US to guarantee its security.\n"
    plain = tmp_path / "a.txt"
    plain.write_text(text)
    table = tmp_path / "t.jsonl"
    row = {
        "id": "wire-17",
        "text": text,
        "title": "Kyiv asks",
        "published": "2025-03-01",
        "url": "https://news.example/17",
    }
    table.write_text(json.dumps(row) + "\n")
    server = Server()
    with LoopbackServer(server) as loopback:
        assert extract(tmp_path, loopback.base_url, plain, out="first.jsonl").returncode == 0
        done = extract(tmp_path, loopback.base_url, table, out="second.jsonl")
    assert done.returncode == 0, done.stderr
    assert len(server.requests) == 1  # the second came from the cache
    [first] = records(tmp_path / "first.jsonl")
    [second] = records(tmp_path / "second.jsonl")
    assert first["article"]["source"] == str(plain) and first["article"]["published"] is None
    assert second["article"]["source"] == "wire-17"
    assert second["article"]["title"] == "Kyiv asks"
    assert second["article"]["published"] == "2025-03-01"
    assert second["proposals"] == first["proposals"]


# --- a server that echoes the key -------------------------------------------------------------


def echo(code: int) -> Script:
    """A server answering every request with ``code`` and a page showing the request's headers
    (a misconfigured proxy's debug page)."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        shown = {name: value for name, value in request.headers.items()}
        return httpx2.Response(code, json={"error": "refused", "request_headers": shown})

    return Script([answer] * 10)


@pytest.mark.parametrize(
    ("code", "key"),
    [(500, "sk-proj-Q9xT2hJ7mWcV4nLp8sKd"), (400, "plain-key-7f3a9c2e5b")],
    ids=["500 with an OpenAI-style key", "400 with a key of no known shape"],
)
def test_an_api_key_echoed_by_the_server_is_shown_and_kept_nowhere(
    tmp_path: Path, code: int, key: str
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    out, db, log = tmp_path / "out.jsonl", tmp_path / "r.db", tmp_path / "requests.jsonl"
    script = echo(code)
    with LoopbackServer(script) as loopback:
        done = cli(
            *("extract", str(article), "-o", str(out), "--base-url", loopback.base_url),
            *("--strategy", "single", "--no-cache", "--db", f"sqlite:///{db}"),
            *("--log-json", str(log)),
            env={"OPENAI_API_KEY": key},
        )
    assert script.requests[0].headers["authorization"] == f"Bearer {key}"  # it was echoed
    kept = done.stdout + done.stderr
    for path in (out, out.with_name("out.jsonl.partial"), db, log):
        if path.exists():
            kept += path.read_bytes().decode("utf-8", errors="replace")
    assert key not in kept
    assert key[3:15] not in kept  # nor a part of it
    if code == 500:  # the article's record holds the error; the run goes on
        assert done.returncode == 1, done.stderr
        [record] = records(out)
        assert record["error"]["type"] == "BackendError"
        assert '"authorization":"***"' in record["error"]["message"]
        with sqlite3.connect(db) as connection:
            (message,) = connection.execute("select error_message from extractions").fetchone()
        assert '"authorization":"***"' in message
    else:  # a refused request stops the run, with one line
        assert done.returncode == 2, done.stderr
        assert '"authorization":"***"' in one_error_line(done.stderr)


# --- answers of megabytes ---------------------------------------------------------------------


def test_an_answer_longer_than_the_cap_is_not_read_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    for name in ("a", "b"):
        (tmp_path / "in" / f"{name}.txt").write_text(f"{name}: {ARTICLE}")
    huge = draft_json(
        quote="Ukraine asked the US to guarantee its security",
        summary="x" * 20_000_000,
        guarantors=[{"name": "the US", "quote": "the US"}],
    )

    def answer(request: httpx2.Request) -> httpx2.Response:
        runaway = b"a: " in request.content
        return httpx2.Response(200, json=handbuilt_completion(huge if runaway else GOOD))

    out = tmp_path / "out.jsonl"
    script = Script([answer] * 4)
    with LoopbackServer(script) as loopback:
        done = cli(
            *("extract", str(tmp_path / "in"), "-o", str(out), "--base-url", loopback.base_url),
            *("--strategy", "single", "--no-cache", "-q"),
        )
    assert done.returncode == 1, done.stderr
    first, second = records(out)
    assert first["error"]["type"] == "BackendError"
    assert "answered HTTP 200 with more than 4,000,000 bytes" in first["error"]["message"]
    assert len(script.requests) == 2  # not asked again: the same request gets the same answer
    assert second["error"] is None and second["proposals"]
    assert out.stat().st_size < 20_000


def test_an_answer_of_unstated_length_is_cut_off_at_the_cap() -> None:
    from handbuilt import engine

    async def endless() -> Any:
        yield b'{"choices": [{"message": {"content": "'
        while True:
            yield b"x" * 65536

    script = Script([httpx2.Response(200, content=endless())])
    running = engine(script)
    try:
        with pytest.raises(client.BackendError, match="with more than 4,000,000 bytes"):
            running.extract([{"role": "user", "content": "Article"}], "Article")
    finally:
        running.close()
    assert len(script.requests) == 1


def test_every_string_the_model_writes_is_kept_to_the_cap_and_the_cut_said(
    tmp_path: Path,
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    long_summary = "Ukraine asks the US. " * 5_000  # 105,000 characters
    answer = draft_json(
        quote="Ukraine asked the US to guarantee its security",
        summary=long_summary,
        guarantors=[{"name": "the US", "quote": "the US"}],
    )
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Script([httpx2.Response(200, json=handbuilt_completion(answer))])) as s:
        done = cli(
            *("extract", str(article), "-o", str(out), "--base-url", s.base_url),
            *("--strategy", "single", "--no-cache", "-q"),
        )
    assert done.returncode == 0, done.stderr
    [record] = records(out)
    [proposal] = record["proposals"]
    assert proposal["summary"] == long_summary.strip()[: build.MAX_CHARS]
    [cut] = [d for d in record["dropped"] if d["field"] == "proposals[0].summary"]
    assert cut["reason"] == (
        f"{len(long_summary.strip()):,} characters, more than the 10,000 a string in a record "
        "keeps: cut to its first 10,000"
    )
    assert cut["value"] == long_summary[:200] + "…"


def test_cutting_keeps_the_evidence_and_cuts_dropped_values() -> None:
    [record, *_] = [r for r in seed_records() if r.proposals]
    proposal = record.proposals[0]
    long = proposal.model_copy(update={"summary": "s" * 30_000})
    dropped = build.Dropped(field="proposals[1]", value={"name": "n" * 30_000}, reason="why")
    kept, notes = build.capped([long], [dropped])
    assert kept[0].summary == "s" * build.MAX_CHARS
    assert kept[0].evidence == proposal.evidence
    assert notes[0].value == {"name": "n" * build.MAX_CHARS}
    assert notes[0].reason == "why (its strings cut to their first 10,000 characters)"
    assert [n.field for n in notes] == ["proposals[1]", "proposals[0].summary"]
    assert build.capped([proposal], []) == ([proposal], [])


# --- article tables ---------------------------------------------------------------------------


def test_a_table_whose_text_column_first_appears_after_row_1000_is_read(tmp_path: Path) -> None:
    table = tmp_path / "t.jsonl"
    rows = [{"id": f"r{i}", "headline": f"row {i}"} for i in range(1_200)]
    rows[1_100]["text"] = ARTICLE
    table.write_text("".join(json.dumps(row) + "\n" for row in rows))
    out = tmp_path / "out.jsonl"
    done = cli("extract", str(table), "-o", str(out), "--strategy", "rules", "--no-cache", "-q")
    assert done.returncode == 1, done.stderr  # the rows without text have an InputError record
    kept = records(out)
    assert len(kept) == 1_200
    assert kept[1_100]["error"] is None and kept[1_100]["article"]["text"] == ARTICLE
    assert kept[0]["error"]["message"] == (
        f"r0: row 0 of {table} has no text in column 'text'; fill it or drop the row"
    )


def test_a_table_with_no_text_column_names_the_columns_of_every_row(tmp_path: Path) -> None:
    table = tmp_path / "t.jsonl"
    rows: list[dict[str, Any]] = [{"body": "x"} for _ in range(1_200)]
    rows[1_150]["late"] = "y"
    table.write_text("".join(json.dumps(row) + "\n" for row in rows))
    done = cli("extract", str(table), "-o", str(tmp_path / "out.jsonl"), "--strategy", "rules")
    assert done.returncode == 2
    assert one_error_line(done.stderr) == (
        f"error: {table}: no column 'text' for the article text (columns: body, late); name it "
        "with --columns text=COLUMN"
    )


# --- CSV export -------------------------------------------------------------------------------


TITLES = ['=HYPERLINK("http://evil.example","x")', "+1+1", "@SUM(A1)", "\tx", "\rx"]


def test_csv_cells_a_spreadsheet_would_run_are_quoted_and_parquet_keeps_them(
    tmp_path: Path,
) -> None:
    hostile = [
        r.model_copy(update={"article": r.article.model_copy(update={"title": title})})
        for r, title in zip(seed_records(), TITLES, strict=True)
    ]
    index = next(i for i, r in enumerate(hostile) if r.proposals)
    proposal = hostile[index].proposals[0].model_copy(update={"summary": "-2+3 troops"})
    hostile[index] = hostile[index].model_copy(update={"proposals": [proposal]})
    source = tmp_path / "r.jsonl"
    source.write_text("".join(r.model_dump_json() + "\n" for r in hostile))
    for fmt in ("csv", "parquet"):
        done = cli("export", str(source), "--format", fmt, "-o", str(tmp_path / fmt))
        assert done.returncode == 0, done.stderr

    def column(table: str, name: str) -> list[str]:
        with (tmp_path / "csv" / f"{table}.csv").open(newline="") as handle:
            return [row[name] for row in csv.DictReader(handle)]

    assert column("articles", "title") == ["'" + title for title in TITLES]
    assert column("proposals", "summary")[0] == "'-2+3 troops"
    assert not any(model.startswith("'") for model in column("extraction_runs", "model"))
    parquet = pq.read_table(tmp_path / "parquet" / "articles.parquet")
    assert parquet["title"].to_pylist() == TITLES  # Parquet keeps the text as it is
