"""Kill and resume: the CLI runs in a subprocess against a slow loopback server, is killed with
SIGKILL mid-batch, and the same command finishes the batch. The answers are hand-built."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from handbuilt import LoopbackServer
from test_runner import Server, articles

COMMAND = [sys.executable, "-c", "from extractor.cli import main; main()"]


def command(folder: Path, out: Path, url: str, db: Path) -> list[str]:
    return [
        *COMMAND,
        *("extract", str(folder), "-o", str(out), "--base-url", url, "--strategy", "single"),
        *("--no-cache", "-q", "--db", f"sqlite:///{db}"),
    ]


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
    server = Server(delay=0.4)
    with LoopbackServer(server) as loopback:
        run = command(tmp_path / "in", out, loopback.base_url, db)
        process = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while complete_lines(partial) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.kill()
        process.wait()
        assert process.returncode == -9
        finished = complete_lines(partial)
        assert 2 <= finished < 6
        assert not out.exists()  # the output file appears only when the batch is complete
        first_requests = len(server.requests)

        done = subprocess.run(run, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        # Only the articles without a record were asked about (one request each).
        assert len(server.requests) - first_requests == 6 - finished
        records = [json.loads(line) for line in out.read_text().splitlines()]
        assert [r["article"]["source"] for r in records] == [str(p) for p in paths]
        assert all(r["error"] is None for r in records)
        assert not partial.exists()

        again = subprocess.run(run, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        assert len(server.requests) - first_requests == 6 - finished
    with sqlite3.connect(db) as connection:
        (rows,) = connection.execute("select count(*) from extractions").fetchone()
        (article_rows,) = connection.execute("select count(*) from articles").fetchone()
    assert rows == 6
    assert article_rows == 6


def test_ctrl_c_stops_the_batch_at_once_and_says_how_to_finish(tmp_path: Path) -> None:
    articles(tmp_path / "in", 6)
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    server = Server(delay=0.4)
    with LoopbackServer(server) as loopback:
        run = command(tmp_path / "in", out, loopback.base_url, tmp_path / "r.db")
        process = subprocess.Popen(
            [*run, "-j", "2"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        deadline = time.monotonic() + 60
        while complete_lines(partial) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
        assert process.returncode == 130, err
        assert "interrupted; finished records are in" in err
        assert "re-run the same command to finish" in err
        finished = complete_lines(partial)
        assert 2 <= finished < 6
        assert not out.exists()
        done = subprocess.run(run, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 6
