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
import os
import resource
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import pytest
from handbuilt import LoopbackServer, Script, draft_json, handbuilt_completion

ROOT = Path(__file__).resolve().parent.parent
COMMAND = [sys.executable, "-c", "from extractor.cli import main; main()"]
ARTICLE = "Ukraine asked the US to guarantee its security within 72 hours."
GOOD = draft_json(
    quote="Ukraine asked the US to guarantee its security",
    summary="Ukraine asks the US.",
    guarantors=[{"name": "the US", "quote": "the US"}],
)


def run(*args: str, timeout: float = 120, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """The CLI in a process of its own, importing this checkout's extractor from any ``cwd``."""
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    kwargs.setdefault("env", {**os.environ, "PYTHONPATH": path})
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


@pytest.mark.parametrize("mode", ["json_schema", "json", "tools", "llamacpp"])
def test_every_malformed_answer_is_an_output_error_in_every_mode(mode: str) -> None:
    """In process, each mode's response parser and re-ask handler: none meets the answer."""
    from handbuilt import engine

    from extractor.io.articles import Article
    from extractor.runs import pipeline

    for name, body in MALFORMED.items():
        script = Script([httpx2.Response(200, json=body)] * 3)
        asking = engine(script, mode=mode)
        try:
            record = pipeline.extract(Article("a.txt", ARTICLE, None, None, "en"), asking)
        finally:
            asking.close()
        assert record.error is not None, (mode, name)
        assert (record.error.type, len(script.requests)) == ("OutputError", 1), (mode, name)
        assert WHY[name] in record.error.message, (mode, name)


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


# --- what no record can hold: NUL and lone surrogates, in a table row or in an answer ------------


def hostile_table(path: Path) -> None:
    """A JSONL article table whose rows 1 to 4 hold a lone surrogate or a NUL (as JSON escapes)
    in a column an article is read from; rows 0 and 5 are plain."""
    rows = [
        {"id": "fine", "text": f"{ARTICLE} Report 0."},
        {"id": "half", "text": f"{ARTICLE} \ud800 Report 1."},
        {"id": "nul", "text": f"{ARTICLE} \x00 Report 2."},
        {"id": "title", "text": f"{ARTICLE} Report 3.", "title": "Kyiv \udfff"},
        {"id": "bad\x00id", "text": f"{ARTICLE} Report 4."},
        {"id": "also fine", "text": f"{ARTICLE} Report 5."},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="ascii")


TABLE_ERRORS = {
    "half": "has a lone surrogate (U+D800) at 64 in column 'text'",
    "nul": "has a NUL character at 64 in column 'text'",
    "title": "has a lone surrogate (U+DFFF) at 5 in column 'title'",
}


def test_nul_and_lone_surrogates_in_a_table_row_are_that_rows_input_error(
    tmp_path: Path,
) -> None:
    table = tmp_path / "articles.jsonl"
    hostile_table(table)
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Script([answer_good] * 100)) as server:
        done = run("extract", str(table), "-o", str(out), "--base-url", server.base_url,
                   "--strategy", "single", "--no-cache", "-q")  # fmt: skip
        assert len(server.script.requests) == 2  # the plain rows only
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, done.stderr
    records = lines_of(out)
    assert [r["article"]["source"] for r in records] == [
        "fine", "half", "nul", "title", f"{table}#4", "also fine"
    ]  # fmt: skip
    for record in records:
        source = record["article"]["source"]
        if source in ("fine", "also fine"):
            assert record["error"] is None and len(record["proposals"]) == 1
            continue
        number = [r["article"]["source"] for r in records].index(source)
        why = TABLE_ERRORS.get(source, "has a NUL character at 3 in column 'id'")
        assert record["error"] == {
            "type": "InputError",
            "message": f"{source}: row {number} of {table} {why}, which no record can hold; "
            "remove it or drop the row",
        }
    assert "\\u0000" not in out.read_text() and "\\ud" not in out.read_text()

    job = tmp_path / "job"
    prepared = run("batch", "prepare", str(table), "-d", str(job), "--strategy", "single")
    assert prepared.returncode == 0, prepared.stderr
    assert "Traceback" not in prepared.stderr
    manifest = json.loads((job / "manifest.json").read_text())
    errors = [entry.get("error") for entry in manifest["articles"]]
    assert [e is None for e in errors] == [True, False, False, False, False, True]
    assert len((job / "requests.jsonl").read_text().splitlines()) == 2


def test_nul_and_lone_surrogates_in_an_answer_never_reach_the_record(tmp_path: Path) -> None:
    """The answer's JSON escapes NUL and half a surrogate pair inside its strings; a whole pair
    (one character) is kept, and an escaped backslash before ``u0000`` is text."""
    content = (
        '{"proposals": [{"quote": "Ukraine asked the US to guarantee its security", '
        '"summary": "Ukraine\\u0000 asks \\ud800the US \\ud83d\\ude00 \\\\u0000.", '
        '"guarantors": [{"name": "the US\\u0000", "quote": "the US"}]}]}'
    )
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    out = tmp_path / "out.jsonl"
    answer = httpx2.Response(200, json=handbuilt_completion(content))
    with LoopbackServer(Script([answer])) as server:
        done = run("extract", str(article), "-o", str(out), "--base-url", server.base_url,
                   "--strategy", "single", "--no-cache", "-q")  # fmt: skip
    assert done.returncode == 0, done.stderr
    [record] = lines_of(out)
    [proposal] = record["proposals"]
    assert proposal["summary"] == "Ukraine asks \ufffdthe US \U0001f600 \\u0000."
    assert [g["actor"]["name"] for g in proposal["guarantors"]] == ["the US"]
    assert "\\u0000" not in out.read_text().replace("\\\\u0000", "")


def test_a_file_name_that_is_not_utf8_is_that_files_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "fine.txt").write_text(f"{ARTICLE} Report 0.")
    with open(bytes(folder) + b"/\xff.txt", "w") as handle:  # a name in Latin-1, say
        handle.write(f"{ARTICLE} Report 1.")
    out = tmp_path / "out.jsonl"
    done = run("extract", str(folder), "-o", str(out), "--strategy", "rules", "--no-cache", "-q")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    [fine, odd] = lines_of(out)
    assert fine["error"] is None
    assert odd["article"]["source"] == f"{folder}/\ufffd.txt"
    assert odd["error"] == {
        "type": "InputError",
        "message": f"{folder}/\ufffd.txt: the file's name is not UTF-8; rename it",
    }


# --- UTF-16 without a byte-order mark, in either byte order, in Russian too ---------------------


def test_utf16_without_a_byte_order_mark_is_named_in_either_order_in_russian_too(
    tmp_path: Path,
) -> None:
    russian = "Киев попросил Вашингтон гарантировать безопасность Украины за 72 часа.\n"
    folder = tmp_path / "in"
    folder.mkdir()
    for encoding in ("utf-16le", "utf-16be"):
        (folder / f"ru-{encoding}.txt").write_bytes(russian.encode(encoding))
        (folder / f"en-{encoding}.txt").write_bytes(f"{ARTICLE}\n".encode(encoding))
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    out = tmp_path / "out.jsonl"
    done = run("extract", str(folder), "-o", str(out), "--strategy", "rules", "--no-cache", "-q")
    assert "Traceback" not in done.stderr, done.stderr
    errors = {Path(r["article"]["source"]).name: r["error"]["message"] for r in lines_of(out)}
    for encoding in ("utf-16le", "utf-16be"):
        for language in ("ru", "en"):
            path = folder / f"{language}-{encoding}.txt"
            assert errors[path.name] == (
                f"{path}: looks like {encoding.upper()} without a byte-order mark; convert it "
                f"first, e.g. iconv -f {encoding} -t utf-8 {path} > fixed.txt"
            )
    assert errors["binary.txt"] == (
        f"{folder / 'binary.txt'}: looks binary (a NUL byte at 0); pass a UTF-8 text, Markdown "
        "or HTML file"
    )


# --- a number no database integer holds ---------------------------------------------------------


@pytest.mark.parametrize("command", ["load", "export", "report"])
def test_an_integer_past_64_bits_in_a_record_is_one_line_naming_it(
    tmp_path: Path, command: str
) -> None:
    from test_sink import seed_records

    records = [r.model_dump(mode="json") for r in seed_records()]
    records[1]["provenance"]["usage"]["prompt_tokens"] = 2**64
    path = tmp_path / "altered.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    target = {
        "load": ("--db", f"sqlite:///{tmp_path / 'x.sqlite'}"),
        "export": ("-o", str(tmp_path / "tables")),
        "report": ("-o", str(tmp_path / "r.html")),
    }[command]
    done = run(command, str(path), *target)
    assert done.returncode == 2, done.stderr
    assert one_error_line(done.stderr) == (
        f"error: {path}: record 2 holds {2**64:,} at provenance.usage.prompt_tokens, past "
        "the 64-bit integers a database holds; no extraction makes such a number, so the file "
        "was altered: re-extract that article, or remove its record"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["altered.jsonl"]


def test_a_load_of_a_record_past_64_bits_is_refused_whole(tmp_path: Path) -> None:
    """Records handed to ``sink.load`` directly (not read by the CLI) are refused the same."""
    from test_sink import seed_records

    from extractor.errors import InputError
    from extractor.outputs import sink

    first, second, *_ = seed_records()
    usage = second.provenance.usage.model_copy(update={"prompt_tokens": 2**64})
    altered = second.model_copy(
        update={"provenance": second.provenance.model_copy(update={"usage": usage})}
    )
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    with pytest.raises(InputError) as caught:
        sink.load([first, altered], url)
    assert str(caught.value) == (
        f"{url} refused record 2 ({second.article.source}): it holds an integer past the 64 "
        "bits a database holds; re-extract that article: its record holds a value out of the "
        "database's range. Nothing was loaded"
    )
    assert sink.load([first], url).added["extractions"] == 1  # the failed load left nothing


# --- a database that is down ----------------------------------------------------------------------


def test_db_upgrade_with_the_database_down_is_one_line_naming_the_fix(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"postgresql+psycopg://extractor:{'PASSWORD'}@127.0.0.1:{port}/extractor"
    done = run("db", "upgrade", "--db", url)
    assert done.returncode == 2, done.stderr
    line = one_error_line(done.stderr)
    shown = f"postgresql+psycopg://extractor:***@127.0.0.1:{port}/extractor"
    assert line.startswith(f"error: cannot reach the database {shown}: "), line
    assert line.endswith("; start it or correct --db"), line
    assert "Connection refused" in line and "PASSWORD" not in done.stderr


# --- a prompt is a name from the prompts folder, or a directory named by its path --------------


def run_in(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(*args, cwd=cwd)


def test_a_prompt_path_is_a_directory_named_as_such_and_a_name_stays_in_the_prompts_folder(
    tmp_path: Path,
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE)
    flags = ("--strategy", "single", "--no-cache", "-q", "-o", "out.jsonl")
    refused = {
        "../../../../etc": "prompt '../../../../etc' has no system.txt, user.txt, which "
        "strategy single asks with; give a prompt version made for it, or leave out --prompt",
        "..": "unknown prompt version '..'; available: extract-v1, fields-v1 (or the path of a "
        "directory of templates, with a /)",
        "./nowhere": "--prompt './nowhere' is no directory; give a directory of prompt "
        "templates (a path with a /) or a prompt version: extract-v1, fields-v1",
        "./dollar": "prompt './dollar': user.txt has a $ that is no placeholder ($article); "
        "the placeholders are $options, $text, and $$ writes a dollar sign",
    }
    (tmp_path / "dollar").mkdir()
    (tmp_path / "dollar" / "system.txt").write_text("Extract.")
    (tmp_path / "dollar" / "user.txt").write_text("Read $article")
    mine = tmp_path / "mine"
    mine.mkdir()
    for part in ("system", "user"):
        text = (ROOT / "prompts" / "extract-v1" / f"{part}.txt").read_text(encoding="utf-8")
        (mine / f"{part}.txt").write_text(text, encoding="utf-8")
    with LoopbackServer(Script([answer_good] * 10)) as server:
        for prompt, message in refused.items():
            done = run_in(tmp_path, "extract", "a.txt", "--prompt", prompt, *flags,
                          "--base-url", server.base_url)  # fmt: skip
            assert done.returncode == 2, (prompt, done.stderr)
            assert one_error_line(done.stderr) == f"error: {message}", prompt
        assert server.script.requests == []
        done = run_in(tmp_path, "extract", "a.txt", "--prompt", "./mine", *flags,
                      "--base-url", server.base_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    [record] = lines_of(tmp_path / "out.jsonl")
    assert record["provenance"]["prompt_version"] == "./mine"
    assert record["error"] is None and len(record["proposals"]) == 1
