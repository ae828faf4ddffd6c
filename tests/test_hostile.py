"""Hostile surroundings, second pass, each through the command line in a process of its own: a
port already taken, a tampered cache entry, a server echoing the API key, answers of megabytes,
a table whose text column comes late, spreadsheet formulas in an export, a cached record met
under other metadata.

The model answers are hand-built (``handbuilt``, ``test_runner.Server``); nothing here came
from a model.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from handbuilt import LoopbackServer, draft_json
from test_runner import Server

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
    from extractor.embedded import Supervised
    from extractor.errors import BackendError

    url = f"http://127.0.0.1:{squatter}/v1"
    server = Supervised([sys.executable, "-c", "pass"], url, Path(os.devnull), timeout=30)
    with pytest.raises(BackendError, match=f"another process listens on port {squatter}"):
        server.ensure()
    server.stop()


def test_a_free_port_is_seen_as_free() -> None:
    from extractor.embedded import port_taken

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
        [entry] = (tmp_path / "cache").rglob("*.json")
        data = json.loads(entry.read_text())
        data["article"]["text"] = data["article"]["text"].replace("US", "UN")  # id kept
        entry.write_text(json.dumps(data))
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
