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
from handbuilt import draft_json

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
