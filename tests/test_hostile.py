"""A hostile tester's cases that once ended in a traceback: malformed answers from a server,
characters no record can hold (NUL, lone surrogates), text in UTF-16 without a byte-order mark,
a full disk or a file-size limit, numbers no database integer holds, a database that is down, a
prompt named by a path.

Each runs the real CLI (a child process where the process matters) against a loopback stand-in
server answering hand-built completions (``handbuilt``); nothing here came from a model.
"""

from __future__ import annotations

import copy
import json
import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
from handbuilt import LoopbackServer, Script, draft_json, handbuilt_completion

COMMAND = [sys.executable, "-c", "from extractor.cli import main; main()"]
ARTICLE = "Ukraine asked the US to guarantee its security within 72 hours."
GOOD = draft_json(
    quote="Ukraine asked the US to guarantee its security",
    summary="Ukraine asks the US.",
    guarantors=[{"name": "the US", "quote": "the US"}],
)


def run(*args: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, timeout=timeout, **kwargs
    )


def one_error_line(stderr: str) -> str:
    """The CLI's message: one line starting with ``error:``, no traceback."""
    assert "Traceback" not in stderr, stderr
    [line] = [line for line in stderr.splitlines() if line.startswith("error:")]
    return line


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --- a malformed answer is that article's error; the batch goes on ------------------------------


def _malformed(change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    body = copy.deepcopy(handbuilt_completion(GOOD))
    change(body)
    return body


# Hand-built answers with HTTP 200 that are no chat completion a client can read.
MALFORMED: dict[str, dict[str, Any]] = {
    "choices a string": _malformed(lambda b: b.update(choices="oops")),
    "choices [null]": _malformed(lambda b: b.update(choices=[None])),
    "choices []": _malformed(lambda b: b.update(choices=[])),
    "message a string": _malformed(lambda b: b["choices"][0].update(message="oops")),
    "content an object": _malformed(
        lambda b: b["choices"][0]["message"].update(content={"proposals": []})
    ),
    "tool_calls a string": _malformed(
        lambda b: b["choices"][0]["message"].update(content=None, tool_calls="oops")
    ),
}
WHY = {
    "choices a string": "choices is a string, not a list of one choice or more",
    "choices [null]": "choices[0] is null, not a choice",
    "choices []": "choices is an empty list, not a list of one choice or more",
    "message a string": "choices[0].message is a string, not a message",
    "content an object": "choices[0].message.content is an object, not text",
    "tool_calls a string": "choices[0].message.tool_calls is a string, not a list",
}


def malformed_server() -> LoopbackServer:
    """Article ``Report N`` gets the Nth malformed answer; the last article a good one."""
    names = list(MALFORMED)

    def answer(request: httpx2.Request) -> httpx2.Response:
        text = json.loads(request.content)["messages"][-1]["content"]
        for n, name in enumerate(names):
            if f"Report {n}." in text:
                return httpx2.Response(200, json=MALFORMED[name])
        return httpx2.Response(200, json=handbuilt_completion(GOOD))

    return LoopbackServer(Script([answer] * 100))


def answer_good(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=handbuilt_completion(GOOD))


def test_a_malformed_answer_is_that_articles_error_and_the_batch_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(len(MALFORMED) + 1):
        (folder / f"{n}.txt").write_text(f"{ARTICLE} Report {n}.")
    out = tmp_path / "out.jsonl"
    with malformed_server() as server:
        command = ("extract", str(folder), "-o", str(out), "--base-url", server.base_url)
        command = (*command, "--strategy", "single", "--no-cache", "-q")
        for attempt in ("first run", "same command again"):
            done = run(*command)
            assert "Traceback" not in done.stderr, (attempt, done.stderr)
            assert done.returncode == 1, (attempt, done.stderr)
            records = lines_of(out)
            assert not Path(f"{out}.partial").exists()
            by_name = {Path(r["article"]["source"]).stem: r for r in records}
            assert sorted(by_name) == [str(n) for n in range(len(MALFORMED) + 1)], attempt
            for n, name in enumerate(MALFORMED):
                error = by_name[str(n)]["error"]
                assert error["type"] == "OutputError", (attempt, name)
                assert error["message"] == (
                    f"{server.base_url} answered HTTP 200 with no chat completion this client "
                    f"can read ({WHY[name]}); fix the server, or use another"
                ), (attempt, name)
                assert by_name[str(n)]["provenance"]["usage"]["requests"] == 1  # not re-asked
            good = by_name[str(len(MALFORMED))]
            assert good["error"] is None and len(good["proposals"]) == 1, attempt


# --- a file-size limit (as a full disk) mid-run: one line, exit 2, the same command finishes -----


def test_a_file_size_limit_mid_run_is_one_line_and_the_same_command_finishes(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(4):
        (folder / f"{n}.txt").write_text(f"{ARTICLE} Report {n}.")
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Script([answer_good] * 100)) as server:
        command = ("extract", str(folder), "-o", str(out), "--base-url", server.base_url)
        command = (*command, "--strategy", "single", "--no-cache", "-q")
        on_stdout = run("extract", str(folder), *command[4:])  # the records' sizes, to stdout
        sizes = [len(line.encode()) + 1 for line in on_stdout.stdout.splitlines()]
        limit = sizes[0] + sizes[1] // 2  # the second record does not fit

        def limited() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        stopped = run(*command, preexec_fn=limited)
        assert stopped.returncode == 2, stopped.stderr
        assert one_error_line(stopped.stderr) == (
            f"error: cannot write {out}.partial: the file reached the size limit (File too "
            "large); raise the limit (ulimit -f) or choose another disk; the records finished "
            "before are kept"
        )
        assert not out.exists()
        assert len(Path(f"{out}.partial").read_bytes()) <= limit
        finished = run(*command)
    assert finished.returncode == 0, finished.stderr
    assert [Path(r["article"]["source"]).name for r in lines_of(out)] == [
        f"{n}.txt" for n in range(4)
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out.jsonl"]
