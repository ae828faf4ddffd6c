"""The embedded server's process never outlives the extractor that started it, and is started
again when it dies under a run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

import pytest
from pydantic import BaseModel, create_model

from extractor.model.embedded import die_with_parent

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie has exited; only its parent has not collected it


def test_a_child_started_through_the_guard_dies_when_its_parent_is_killed() -> None:
    starter = (
        "import subprocess, sys, time\n"
        "from extractor.model.embedded import die_with_parent\n"
        "child = subprocess.Popen(die_with_parent([sys.executable, '-c', "
        "'import time; time.sleep(120)']))\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", starter], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    time.sleep(0.5)  # the guard has made way for the command by now
    assert alive(child)
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 10
    while alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child)


def test_the_guard_runs_the_command_itself() -> None:
    command = die_with_parent([sys.executable, "-c", "print('hello')"])
    assert command[-3:] == [sys.executable, "-c", "print('hello')"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=True)
    assert done.stdout == "hello\n"
    assert str(os.getpid()) in command


# A stand-in for the model server (hand-built answers, no model): it answers /v1/models and
# chat completions with the answer in the file argv[3], except that the first request it gets
# while the file argv[2] does not exist kills its own process, mid-request, with SIGKILL.
STAND_IN = """
import os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

port, first_time, answer = int(sys.argv[1]), sys.argv[2], open(sys.argv[3], "rb").read()
print(f"stand-in serving on {port}, pid {os.getpid()}", flush=True)


class Handler(BaseHTTPRequestHandler):
    def reply(self, body):
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(b'{"object": "list", "data": []}')

    def do_POST(self):
        self.rfile.read(int(self.headers["content-length"]))
        if not os.path.exists(first_time):
            open(first_time, "w").close()
            print("stand-in: segfault stand-in on this request", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        self.reply(answer)

    def log_message(self, *args):
        pass


HTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def _stand_in(folder: Path, *, dies_once: bool) -> tuple[list[str], str]:
    """The command of a stand-in server answering with a hand-built completion naming the US as
    guarantor, and its base URL; ``dies_once``: it kills itself on its first request."""
    from handbuilt import draft_json, handbuilt_completion

    from extractor.model.embedded import free_port

    answer = draft_json(
        quote="Ukraine asked the US to guarantee its security",
        summary="Ukraine asks the US.",
        guarantors=[{"name": "the US", "quote": "the US"}],
    )
    (folder / "answer.json").write_text(json.dumps(handbuilt_completion(answer)))
    (folder / "stand_in.py").write_text(STAND_IN)
    if not dies_once:
        (folder / "died-once").touch()
    port = free_port()
    command = [sys.executable, str(folder / "stand_in.py"), str(port)]
    command += [str(folder / "died-once"), str(folder / "answer.json")]
    return command, f"http://127.0.0.1:{port}/v1"


def test_a_server_killed_mid_request_is_started_again_and_the_request_retried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from extractor.config import resolve
    from extractor.model.embedded import supervised
    from extractor.runs import runner
    from extractor.runs.method import resolve_method

    (tmp_path / "a.txt").write_text("Ukraine asked the US to guarantee its security in 72 hours.")
    command, base_url = _stand_in(tmp_path, dies_once=True)
    settings = resolve(base_url=base_url, strategy="single", mode="json_schema", env={})
    with supervised(command, base_url, tmp_path / "server.log", timeout=30) as server:
        first_pid = server.pid
        summary = runner.run(
            [str(tmp_path / "a.txt")],
            resolve_method(settings),
            runner.Output(str(tmp_path / "out.jsonl")),
            runner.RunOptions(),
        )
        assert first_pid is not None and not alive(first_pid)
        assert server.pid != first_pid and server.pid is not None and alive(server.pid)
        assert server.restarts == 1

    [outcome] = summary.outcomes
    assert outcome.record is not None and outcome.record.error is None
    assert [g.actor.code for g in outcome.record.proposals[0].guarantors] == ["USA"]
    assert outcome.meter.requests == 2 and outcome.meter.retries == 1
    reported = capsys.readouterr().err
    assert reported.count(f"the embedded server (pid {first_pid}) died (killed by SIGKILL)") == 1
    assert reported.count("stand-in: segfault stand-in on this request") == 1  # the log's tail
    assert f"starting it again at {base_url}" in reported


def test_a_server_served_on_demand_starts_at_the_first_request_and_only_then(
    tmp_path: Path,
) -> None:
    from extractor.config import resolve
    from extractor.model.embedded import supervised
    from extractor.runs import runner
    from extractor.runs.method import resolve_method

    (tmp_path / "a.txt").write_text("Ukraine asked the US to guarantee its security.")
    command, base_url = _stand_in(tmp_path, dies_once=False)
    told: list[str] = []
    with supervised(
        command, base_url, tmp_path / "server.log", timeout=30, lazy=True, announce=told.append
    ) as server:
        # The rules settle this article alone: no request, so no process.
        rules = resolve(base_url=base_url, strategy="rules", env={})
        quiet = runner.run(
            [str(tmp_path / "a.txt")], resolve_method(rules),
            runner.Output(str(tmp_path / "r.jsonl")),
            runner.RunOptions(),
        )  # fmt: skip
        assert quiet.outcomes[0].record is not None and server.pid is None and told == []
        single = resolve(base_url=base_url, strategy="single", mode="json_schema", env={})
        summary = runner.run(
            [str(tmp_path / "a.txt")], resolve_method(single),
            runner.Output(str(tmp_path / "s.jsonl")),
            runner.RunOptions(),
        )  # fmt: skip
        assert server.pid is not None and alive(server.pid)
        assert server.restarts == 0
    [outcome] = summary.outcomes
    assert outcome.record is not None and outcome.record.error is None
    assert outcome.meter.requests == 1 and outcome.meter.retries == 0
    assert told[0] == "starting the embedded model server…"
    assert told[1].startswith(f"embedded server ready at {base_url} in ")
    assert len(told) == 2


def test_a_server_served_on_demand_that_cannot_start_stops_the_run_once(tmp_path: Path) -> None:
    from extractor.config import resolve
    from extractor.model.embedded import free_port, supervised
    from extractor.runs import runner
    from extractor.runs.method import resolve_method

    starts = tmp_path / "starts"
    failing = "import sys; open(sys.argv[1], 'a').write('x'); print('no model here'); sys.exit(3)"
    command = [sys.executable, "-c", failing, str(starts)]
    base_url = f"http://127.0.0.1:{free_port()}/v1"
    articles = []
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(f"Ukraine asked the US to guarantee its security ({i}).")
        articles.append(str(tmp_path / f"{i}.txt"))
    single = resolve(base_url=base_url, strategy="single", mode="json_schema", env={})
    with supervised(command, base_url, tmp_path / "server.log", timeout=30, lazy=True):
        summary = runner.run(
            articles,
            resolve_method(single),
            runner.Output(str(tmp_path / "out.jsonl")),
            runner.RunOptions(),
        )
    assert summary.stopped is not None
    assert "the embedded server exited with code 3 before answering" in summary.stopped
    assert "no model here" in summary.stopped  # the tail of its log
    assert starts.read_text() == "x"  # tried once, not once an article
    assert [o.record for o in summary.outcomes] == [None, None, None]  # none marked as done


HOSTILE_OPTIONS = [
    'Ukraine"',
    '"Ukraine"',
    "the \\Kremlin\\",
    "Crimea\nand Sevastopol",
    "Donbas\t\r",
    "Крым",
    "Запорожье\u00a0область",  # noqa: RUF001
    "Kherson\u200b",
    "🇺🇦 Ukraine",
    "Zaporizhzhia-" + "region-" * 40,
    "NATO",
]


def _literals(gbnf: str, rule: str) -> list[str]:
    """The string literals of one rule of a GBNF grammar, decoded as llama.cpp's grammar parser
    decodes them (a test-side reading: the grammar parser itself only says yes or no)."""
    line = next(line for line in gbnf.splitlines() if line.startswith(f"{rule} ::= "))
    out: list[str] = []
    for body in re.findall(r'"((?:[^"\\]|\\.)*)"', line.split(" ::= ", 1)[1]):
        out.append(
            re.sub(
                r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)",
                lambda m: (
                    {"n": "\n", "r": "\r", "t": "\t"}.get(m.group(1))
                    or (chr(int(m.group(1)[1:], 16)) if len(m.group(1)) > 1 else m.group(1))
                ),
                body,
            )
        )
    return out


@pytest.fixture(scope="module")
def grammar_parses() -> Iterator[Callable[[str], bool]]:
    """Whether llama.cpp's own grammar parser (the one the embedded server decodes with)
    accepts a GBNF grammar: it needs the model's vocabulary, read without the weights."""
    llama_cpp = pytest.importorskip("llama_cpp")
    from extractor.model.embedded import find_gguf

    model = llama_cpp.Llama(model_path=str(find_gguf()), vocab_only=True, verbose=False)
    vocab = llama_cpp.llama_model_get_vocab(model.model)

    def parses(gbnf: str) -> bool:
        sampler = llama_cpp.llama_sampler_init_grammar(vocab, gbnf.encode(), b"root")
        if not sampler:
            return False
        llama_cpp.llama_sampler_free(sampler)
        return True

    yield parses
    model.close()


def _grammar(model: type[BaseModel]) -> str:
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    from extractor.model.bodies import bounded_schema

    return str(json_schema_to_gbnf(json.dumps(bounded_schema(model.model_json_schema()))))


def test_raw_article_text_in_an_enum_breaks_the_servers_grammar(
    grammar_parses: Callable[[str], bool],
) -> None:
    """Why options are never sent as they stand: the case that crashed the server."""
    raw = create_model("Choice", value=(Literal['Ukraine"', "NATO"] | None, None))
    assert not grammar_parses(_grammar(raw))


@pytest.mark.parametrize("many", [True, False], ids=["choices", "choice"])
def test_choice_schemas_of_hostile_options_hold_in_the_servers_grammar(
    grammar_parses: Callable[[str], bool], many: bool
) -> None:
    from extractor.strategies import OPTION_CHARS, choice_model, option_labels

    model = choice_model(HOSTILE_OPTIONS, many)
    gbnf = _grammar(model)
    assert grammar_parses(gbnf)
    labels = option_labels(HOSTILE_OPTIONS)
    # What the grammar lets the model write is each label as a valid JSON string, and nothing
    # else.
    written = _literals(gbnf, "values-item" if many else "value-0")
    assert [json.loads(literal) for literal in written] == list(labels)
    assert all(len(label) <= OPTION_CHARS for label in labels)
    assert (
        list(labels)
        == [
            "Ukraine",  # of '"Ukraine"' and the flag's option too: the first option keeps it
            "the Kremlin",
            "Crimea and Sevastopol",
            "Donbas",
            "Крым",
            "Запорожье область",
            "Kherson",
            ("Zaporizhzhia-" + "region-" * 40)[:OPTION_CHARS],
            "NATO",
        ]
    )
    # The answer validates back to the option as the text writes it, to be located there.
    field = "values" if many else "value"
    answer = {field: ["Ukraine", "Crimea and Sevastopol", "Крым"] if many else "Ukraine"}
    picked = model.model_validate(answer)
    assert getattr(picked, field) == (
        ['Ukraine"', "Crimea\nand Sevastopol", "Крым"] if many else 'Ukraine"'
    )


def test_every_answer_schema_sent_to_the_embedded_server_holds_in_its_grammar(
    grammar_parses: Callable[[str], bool],
) -> None:
    from extractor.schemas import ArticleDraft
    from extractor.strategies import Names, Phrase, Phrases

    for model in (ArticleDraft, Names, Phrases, Phrase):
        assert grammar_parses(_grammar(model)), model.__name__


QUOTED = (
    'Officials said the "Ukraine" guarantee would oblige the US and France to respond within '
    "72 hours. Crimea would be excluded from the guarantee, a diplomat said.\n"
)
SHORT = [
    "Ukraine proposed on Tuesday that the US, UK and France guarantee its security. Under the "
    "plan the guarantors would have to respond within 72 hours.\n",
    "Poland and Germany said they would guarantee a ceasefire line if NATO agreed. Crimea would "
    "not be covered by the guarantee.\n",
    "Turkey offered to act as a guarantor of a peace deal, officials in Ankara said.\n",
]


def _articles(folder: Path, *texts: str) -> list[str]:
    paths = []
    for i, text in enumerate(texts):
        path = folder / f"{i}.txt"
        path.write_text(text, encoding="utf-8")
        paths.append(str(path))
    return paths


def _cli(*args: str, **popen: Any) -> subprocess.Popen[str]:
    """The installed CLI with no server configured: it starts the embedded model."""
    env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY")}
    command = [str(Path(sys.executable).parent / "extractor"), *args]
    return subprocess.Popen(command, env=env, text=True, **popen)


@pytest.mark.live
def test_the_embedded_model_finishes_a_batch_with_quotes_in_its_options(tmp_path: Path) -> None:
    from extractor import strategies
    from extractor.core import rules

    # The quote of 'the "Ukraine' (a proposer candidate) never reaches the server's grammar.
    assert 'the "Ukraine' in rules.actor_mentions(QUOTED)
    chunked = strategies.named("chunked")
    plan = chunked.plan(QUOTED, chunked.prompt(None))
    options = [o for ask in plan for o in _enum(ask.answer)]
    assert "the Ukraine" in options
    out = tmp_path / "out.jsonl"
    articles = _articles(tmp_path, QUOTED, *SHORT[:2])
    # chunked: the strategy whose plan was just shown to send the quoted candidate.
    done = _cli("extract", *articles, "-o", str(out), "--no-cache", "--strategy", "chunked")
    assert done.wait(timeout=1200) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["error"] for r in records] == [None, None, None]


def _enum(model: type[BaseModel]) -> list[str]:
    """Every value an enum of ``model``'s JSON Schema allows."""
    text = json.dumps(model.model_json_schema(), ensure_ascii=False)
    return [
        value for match in re.findall(r'"enum": (\[[^\]]*\])', text) for value in json.loads(match)
    ]


def _server_of(cli_pid: int) -> int | None:
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().split(")")[-1].split()[1])
            cmdline = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if ppid == cli_pid and b"llama_cpp.server" in cmdline:
            return int(stat.parent.name)
    return None


@pytest.mark.live
def test_a_killed_embedded_server_is_restarted_and_the_batch_finishes(tmp_path: Path) -> None:
    articles = _articles(tmp_path, *SHORT)
    out = tmp_path / "out.jsonl"
    stderr = tmp_path / "stderr.txt"
    # chunked: several requests an article, so the server is killed while the batch needs it (the
    # default strategy asks nothing of these texts, whose proposers the rules name).
    with stderr.open("w") as sink:
        run = _cli(
            "extract", *articles, "-o", str(out), "--no-cache", "--strategy", "chunked", stderr=sink
        )
        try:
            deadline = time.monotonic() + 300
            server = None
            while server is None and time.monotonic() < deadline:
                time.sleep(0.5)
                if "embedded server ready" in stderr.read_text():
                    server = _server_of(run.pid)
            assert server is not None, stderr.read_text()
            time.sleep(2)  # into the first article's requests
            os.kill(server, signal.SIGKILL)
            assert run.wait(timeout=1200) == 0, stderr.read_text()
        finally:
            if run.poll() is None:
                run.kill()
                run.wait()
    said = stderr.read_text()
    assert said.count(f"the embedded server (pid {server}) died (killed by SIGKILL)") == 1
    assert "starting it again at http://127.0.0.1:" in said
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 3
    assert [r["error"] for r in records] == [None, None, None]
