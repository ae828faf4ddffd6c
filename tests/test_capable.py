"""The capable-model replay tier: what the extractor makes of a capable model's answers.

No capable model runs offline, so ``tests/capable/`` holds the next best thing: for each of the
37 development articles, the answer a capable model wrote to the request ``--strategy single``
sends (``--mode json_schema``), from that request alone (README there). They are not
recordings of a server. ``capable_replay`` serves them from a loopback server, cutting an
answer longer than the request's ``max_tokens`` as a real server would, and these tests run
``extractor extract`` and ``extractor eval`` over them and check the figures docs/quality.md
states ("A capable model, replayed").

The seeds are in the repository; the corpus articles and the second corpus's gold live in
``../shared`` beside the clone (``$SHARED_DIR`` elsewhere), and the tier is skipped without them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from capable_replay import Replay, ReplayServer, estimated_tokens
from click.testing import CliRunner

from extractor.cli import cli

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SHARED = Path(os.environ.get("SHARED_DIR") or ROOT.parent / "shared")
# The answers written to the request of version 3 of the draft (the state and the person
# speaking for it, every response time), and the first answers, written to version 2 of the
# draft, which version 3 still reads.
ANSWERS = HERE / "capable" / "answers"
ANSWERS_V2 = HERE / "capable" / "answers-v2"
QUALITY = ROOT / "docs" / "quality.md"

# name -> (articles, gold folder)
SETS = {
    "seeds": (sorted((ROOT / "seeds").glob("*.txt")), HERE / "gold"),
    "news": (sorted((SHARED / "corpus" / "news").glob("*.txt")), HERE / "gold" / "corpus"),
    "news2": (sorted((SHARED / "corpus" / "news2").glob("*.txt")), SHARED / "gold" / "corpus2"),
}
ARTICLES = [path for articles, _ in SETS.values() for path in articles]
HOLDOUT = {
    line.strip()
    for line in (HERE / "gold" / "HOLDOUT").read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
}

needs_shared = pytest.mark.skipif(
    len(ARTICLES) != 37 or not SETS["news2"][1].is_dir(),
    reason=f"the corpus articles and their gold are not at {SHARED} (../shared beside the "
    "clone; set SHARED_DIR to where they are)",
)

FIELDS = ("proposers", "guarantors", "response_time_hours", "excluded_territories", "conditions")

# The capable replay's F1 per field (None: no gold value and none predicted), has_proposal
# accuracy and grounding, per set: the two capable columns of docs/quality.md ("A capable
# model, replayed"), the version 3 answers last.
DOCUMENTED: dict[str, dict[str, dict[str, Any]]] = {
    "answers": {
        "seeds": {
            "proposers": 1.000,
            "guarantors": 0.968,
            "response_time_hours": 1.000,
            "excluded_territories": 1.000,
            "conditions": 0.848,
            "has_proposal": 1.000,
            "grounding": (92, 92),
        },
        "news": {
            "proposers": 0.966,
            "guarantors": 0.936,
            "response_time_hours": 1.000,
            "excluded_territories": 1.000,
            "conditions": 0.908,
            "has_proposal": 1.000,
            "grounding": (156, 156),
        },
        "news2": {
            "proposers": 0.826,
            "guarantors": 0.946,
            "response_time_hours": 1.000,
            "excluded_territories": None,
            "conditions": 0.720,
            "has_proposal": 0.944,
            "grounding": (139, 139),
        },
        "all": {
            "proposers": 0.917,
            "guarantors": 0.948,
            "response_time_hours": 1.000,
            "excluded_territories": 1.000,
            "conditions": 0.819,
            "has_proposal": 0.971,
            "grounding": (387, 387),
        },
    },
    "answers-v2": {
        "seeds": {
            "proposers": 1.000,
            "guarantors": 1.000,
            "response_time_hours": 1.000,
            "excluded_territories": 1.000,
            "conditions": 0.800,
            "has_proposal": 1.000,
            "grounding": (86, 86),
        },
        "news": {
            "proposers": 0.957,
            "guarantors": 1.000,
            "response_time_hours": 1.000,
            "excluded_territories": 1.000,
            "conditions": 0.832,
            "has_proposal": 1.000,
            "grounding": (118, 118),
        },
        "news2": {
            "proposers": 0.718,
            "guarantors": 0.949,
            "response_time_hours": 0.667,
            "excluded_territories": None,
            "conditions": 0.755,
            "has_proposal": 0.944,
            "grounding": (119, 119),
        },
        "all": {
            "proposers": 0.871,
            "guarantors": 0.979,
            "response_time_hours": 0.857,
            "excluded_territories": 1.000,
            "conditions": 0.792,
            "has_proposal": 0.971,
            "grounding": (323, 323),
        },
    },
}
# Which column of the docs' tables holds each answer set's figures (from the right).
COLUMN = {"answers": -2, "answers-v2": -3}


def extract(base_url: str, out: Path, *extra: str, env: dict[str, str] | None = None) -> str:
    """``extractor extract`` of the 37 articles against the replay; its standard error."""
    result = CliRunner().invoke(
        cli,
        [
            "extract",
            *map(str, ARTICLES),
            *("--strategy", "single", "--mode", "json_schema", "--model", "capable-replay"),
            *("--base-url", base_url, "--no-cache", "-o", str(out), *extra),
        ],
        catch_exceptions=False,
        env={"EXTRACTOR_MAX_TOKENS": "", **(env or {})},
    )
    assert result.exit_code == 0, result.stderr
    return result.stderr


def scores(records: Path, *golds: Path) -> dict[str, Any]:
    """``extractor eval --json`` of ``records`` against ``golds``, as the documented figures."""
    flags = [flag for gold in golds for flag in ("--gold", str(gold))]
    result = CliRunner().invoke(cli, ["eval", "--json", *flags, str(records)])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    f1 = {name: report["fields"][name]["f1"] for name in FIELDS}
    out: dict[str, Any] = {name: None if v is None else round(v, 3) for name, v in f1.items()}
    out["has_proposal"] = round(report["has_proposal"]["accuracy"], 3)
    out["grounding"] = (report["grounding"]["matched"], report["grounding"]["total"])
    return out


def replay_of(answers: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replay, str]:
    """The records of the 37 articles from the replayed ``answers``, default settings."""
    replay = Replay.load(answers, ARTICLES, simulate_max_tokens=True)
    out = tmp_path_factory.mktemp("capable") / "capable.jsonl"
    with ReplayServer(replay) as server:
        err = extract(server.base_url, out)
    return out, replay, err


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replay, str]:
    """The version 3 answers' records."""
    return replay_of(ANSWERS, tmp_path_factory)


@pytest.fixture(scope="module")
def replayed_v2(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Replay, str]:
    """The version 2 answers' records."""
    return replay_of(ANSWERS_V2, tmp_path_factory)


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@needs_shared
def test_every_article_has_its_answer() -> None:
    replay = Replay.load(ANSWERS, ARTICLES)
    assert len(replay.answers) == 37
    assert sorted(p.name for p in ANSWERS.glob("*.json")) == sorted(
        f"{p.name}.json" for p in ARTICLES
    )


@needs_shared
def test_no_answer_is_cut_at_the_default_max_tokens(replayed: tuple[Path, Replay, str]) -> None:
    out, replay, err = replayed
    # Every article's answer was served (sixteen of them twice: re-asked for a value its
    # quote does not back, and answered the same).
    assert {s.article for s in replay.served} == {p.name for p in ARTICLES}
    twice = [s.article for s in replay.served]
    assert len(twice) - len(set(twice)) == 16 and max(map(twice.count, twice)) == 2
    # The longest answers pass 1024 tokens: they fit 4096.
    assert max(s.answer_tokens for s in replay.served) > 1024
    assert {(s.max_tokens, s.finish_reason) for s in replay.served} == {(4096, "stop")}
    records = records_of(out)
    assert [r["provenance"]["usage"]["cut_off"] for r in records] == [0] * 37
    assert "cut off" not in err


@needs_shared
@pytest.mark.parametrize("answers", list(DOCUMENTED))
@pytest.mark.parametrize("name", [*SETS, "all"])
def test_the_replay_scores_what_docs_quality_states(
    request: pytest.FixtureRequest, answers: str, name: str
) -> None:
    fixture = "replayed" if answers == "answers" else "replayed_v2"
    out, _, _ = request.getfixturevalue(fixture)
    golds = [gold for _, gold in SETS.values()] if name == "all" else [SETS[name][1]]
    documented = DOCUMENTED[answers][name]
    assert scores(out, *golds) == documented
    section = QUALITY.read_text(encoding="utf-8").split("## A capable model, replayed")[1]
    table = section.split(f"### {name} (")[1].split("\n\n")[1]
    for field, value in documented.items():
        label = "has_proposal accuracy" if field == "has_proposal" else field
        row = next(line for line in table.splitlines() if line.startswith(f"| {label}"))
        capable = row.split("|")[COLUMN[answers]]
        if field == "grounding":
            assert f"{value[0]}/{value[1]}" in capable, (answers, name, field)
        else:
            assert ("-" if value is None else f"{value:.3f}") in capable, (answers, name, field)


@needs_shared
def test_every_value_dropped_is_listed_in_docs_quality(replayed: tuple[Path, Replay, str]) -> None:
    """What the extractor dropped of the answers (the articles kept aside excluded) is the
    table of docs/quality.md, each with why."""
    out, _, _ = replayed
    dropped = sorted(
        (Path(r["article"]["source"]).name, d["field"])
        for r in records_of(out)
        if Path(r["article"]["source"]).name not in HOLDOUT
        for d in r["dropped"]
        if d["field"]  # "" is the note on the whole answer (its re-asks were spent)
    )
    section = QUALITY.read_text(encoding="utf-8").split("### What does not reach the record")[1]
    listed = sorted(
        (m.group(1), m.group(2))
        for m in re.finditer(r"^\| `?(\S+\.txt)`? \| dropped: `([^`]+)`", section, re.M)
    )
    assert dropped == listed


@needs_shared
def test_an_answer_cut_at_a_small_budget_is_asked_again_and_the_summary_says_so(
    replayed: tuple[Path, Replay, str], tmp_path: Path
) -> None:
    """At max_tokens 1024 the server cuts every answer longer than that; each is asked again
    with twice the budget (twice over for one longer than 2048) until it fits, and the records
    are those of the default budget."""
    replay = Replay.load(ANSWERS, ARTICLES, simulate_max_tokens=True)
    out = tmp_path / "small.jsonl"
    with ReplayServer(replay) as server:
        err = extract(server.base_url, out, env={"EXTRACTOR_MAX_TOKENS": "1024"})
    cut = sorted((s.article, s.max_tokens) for s in replay.served if s.finish_reason == "length")
    length = {name: estimated_tokens(content) for name, content in replay.answers.values()}
    expected = sorted(
        (name, cap) for name, tokens in length.items() for cap in (1024, 2048) if tokens > cap
    )
    assert cut == expected and len({name for name, _ in cut}) > 3
    # Each cut is asked again with twice the budget, which the answer then fits.
    for name, cap in cut:
        assert any(s.article == name and s.max_tokens == 2 * cap for s in replay.served)
    assert (
        f"{len(cut)} answers were cut off at max_tokens: {len(cut)} asked again with a larger "
        "budget, 0 kept cut" in " ".join(err.split())
    )
    by_default = {r["article"]["source"]: r["proposals"] for r in records_of(replayed[0])}
    assert {r["article"]["source"]: r["proposals"] for r in records_of(out)} == by_default
    assert sum(r["provenance"]["usage"]["cut_off"] for r in records_of(out)) == len(cut)


SHARED_REPLAY = SHARED / "capable" / "replay.py"


@pytest.mark.skipif(not SHARED_REPLAY.is_file(), reason=f"no {SHARED_REPLAY}")
@pytest.mark.parametrize(("max_tokens", "cut"), [("", 0), ("1024", 2)])
def test_the_shared_replay_server_cuts_no_answer_at_the_default_budget(
    tmp_path: Path, max_tokens: str, cut: int
) -> None:
    """The seeds against ``../shared/capable/replay.py --simulate-max-tokens`` (its own copy of
    the answers): at the default budget it cuts nothing; at 1024 it cuts the two long seed
    answers, each asked again with 2048."""
    with socket.socket() as probe:  # a free port for the server to take
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "requests.jsonl"
    seeds = SETS["seeds"][0]
    command = [sys.executable, str(SHARED_REPLAY), "--port", str(port), "--log", str(log)]
    command += ["--simulate-max-tokens", "--answers", str(SHARED / "capable" / "answers")]
    with subprocess.Popen(
        [*command, *map(str, seeds)], stderr=subprocess.PIPE, text=True
    ) as server:
        try:
            assert server.stderr is not None
            assert "5 answers" in server.stderr.readline()  # it is listening
            result = CliRunner().invoke(
                cli,
                [
                    "extract",
                    *map(str, seeds),
                    *("--strategy", "single", "--mode", "json_schema", "--model", "capable-replay"),
                    *("--base-url", f"http://127.0.0.1:{port}/v1", "--no-cache", "-o", "-", "-q"),
                ],
                catch_exceptions=False,
                env={"EXTRACTOR_MAX_TOKENS": max_tokens},
            )
        finally:
            server.terminate()
    assert result.exit_code == 0, result.stderr
    served = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    ended = [(s["article_file"], s["body"]["max_tokens"], s["finish_reason"]) for s in served]
    cut_off = sorted(name for name, _, finish in ended if finish == "length")
    assert len(cut_off) == cut
    for name in cut_off:
        assert (name, 2048, "stop") in ended
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert sum(r["provenance"]["usage"]["cut_off"] for r in records) == cut
