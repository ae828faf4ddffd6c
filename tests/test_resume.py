"""Kill and resume: the CLI runs in a subprocess against a loopback server, is killed with
SIGKILL (or interrupted) mid-batch, and the same command finishes the batch. The answers are
hand-built. The server answers the first requests and holds the others until the signal is
sent, so where the batch stands when it lands does not depend on how busy the machine is."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx2
from handbuilt import LoopbackServer
from test_runner import Server, articles

COMMAND = [sys.executable, "-c", "from extractor.cli import main; main()"]


def command(folder: Path, out: Path, url: str, db: Path) -> list[str]:
    return [
        *COMMAND,
        *("extract", str(folder), "-o", str(out), "--base-url", url, "--strategy", "single"),
        *("--no-cache", "-q", "--db", f"sqlite:///{db}"),
    ]


class Held(Server):
    """A ``Server`` that answers the first ``answered`` requests at once and holds every later
    one until ``release``: a batch stopped while it holds them has exactly ``answered``
    records, however slow the machine."""

    def __init__(self, answered: int) -> None:
        super().__init__()
        self.answered = answered
        self.arrived = 0  # requests received, held ones included
        self._released = threading.Event()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.arrived += 1
            held = self.arrived > self.answered
        if held:
            self._released.wait(timeout=120)
        return super().__call__(request)

    def release(self) -> None:
        """Answer the held requests, and every later one at once."""
        self._released.set()


def wait_for(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def complete_lines(path: Path) -> int:
    try:
        return path.read_bytes().count(b"\n")
    except FileNotFoundError:
        return 0


def test_a_batch_killed_with_sigkill_resumes_without_losing_or_repeating_work(
    tmp_path: Path,
) -> None:
    paths = articles(tmp_path / "in", 6)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    db = tmp_path / "records.db"
    server = Held(answered=2)
    with LoopbackServer(server) as loopback:
        run = command(tmp_path / "in", out, loopback.base_url, db)
        process = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Two records written, the third article's request held: killed in the middle.
        wait_for(lambda: complete_lines(partial) == 2 and server.arrived == 3)
        process.kill()
        process.wait()
        server.release()
        assert process.returncode == -9
        assert complete_lines(partial) == 2
        assert not out.exists()  # the output file appears only when the batch is complete
        first_requests = server.arrived

        done = subprocess.run(run, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # Only the articles without a record were asked about (one request each).
        assert server.arrived - first_requests == 4
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["article"]["source"] for r in records] == [str(p) for p in paths]
        assert all(r["error"] is None for r in records)
        assert not partial.exists()

        again = subprocess.run(run, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert server.arrived - first_requests == 4
    with sqlite3.connect(db) as connection:
        (rows,) = connection.execute("select count(*) from extractions").fetchone()
        (article_rows,) = connection.execute("select count(*) from articles").fetchone()
    assert rows == 6
    assert article_rows == 6


def test_ctrl_c_stops_the_batch_at_once_and_says_how_to_finish(tmp_path: Path) -> None:
    articles(tmp_path / "in", 6)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    server = Held(answered=2)
    with LoopbackServer(server) as loopback:
        run = command(tmp_path / "in", out, loopback.base_url, tmp_path / "r.db")
        process = subprocess.Popen(
            [*run, "-j", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        # Two records written, two requests held (one per worker): interrupted in the middle.
        wait_for(lambda: complete_lines(partial) == 2 and server.arrived == 4)
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=30)  # at once: the held answers never come
        finally:
            server.release()
        assert process.returncode == 130, err
        assert "interrupted; finished records are in" in err
        assert "re-run the same command to finish" in err
        assert complete_lines(partial) == 2
        assert not out.exists()
        done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 6
