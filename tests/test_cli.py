"""The command line: exact exit codes, output files and messages, against a loopback server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from handbuilt import LoopbackServer, Script, draft_json, ok, status

from extractor import config
from extractor.cli import cli, schema_text, setting_help
from extractor.errors import InputError
from extractor.eval import evaluate

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, input: str | None = None) -> tuple[int, str, str]:
    if args[0] == "extract" and "--db" not in args:
        # The hand-built answers below are whole-article drafts: the single-call strategy.
        args = (*args, "--strategy", "single")
    elif args[0] == "extract":
        args = (args[0], "--strategy", "single", *args[1:])
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def article(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_text("Kyiv asked Washington to guarantee its security within 72 hours.\n")
    return path


def test_schema_command_prints_the_checked_in_schema() -> None:
    code, out, _ = run("schema")
    assert code == 0
    assert out == (ROOT / "schemas" / "record.schema.json").read_text(encoding="utf-8")
    assert out == schema_text()


def test_extract_writes_one_record_per_article_and_exits_0(article: Path, tmp_path: Path) -> None:
    answer = draft_json(
        summary="Kyiv asks for a US guarantee.",
        proposer="Kyiv",
        guarantors=[{"name": "Washington", "quote": "asked Washington"}],
        response_times=[{"text": "72 hours", "quote": "within 72 hours"}],
        quote="Kyiv asked Washington to guarantee its security",
    )
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Script([ok(answer)])) as server:
        code, _, err = run("extract", str(article), "-o", str(out), "--base-url", server.base_url)
    assert code == 0, err
    assert (
        "1 article: 1 extracted, 0 from the cache, 0 already done, 0 unreadable, "
        "0 not started; 0 with an error\n"
        "120 tokens spent (prompt 100, completion 20) in 1 request (0 retries, 0 re-asks)\n"
    ) in err
    [record] = [json.loads(line) for line in out.read_text().splitlines()]
    proposal = record["proposals"][0]
    assert proposal["proposer"] == {
        "name": "Kyiv",
        "kind": "state",
        "code": "UKR",
        "person": None,
        # Named in the proposal's own quote, which is its evidence.
        "evidence": [
            {
                "quote": "Kyiv asked Washington to guarantee its security",
                "model_quote": None,
                "start": 0,
                "end": 47,
                "match": "exact",
                "score": 100.0,
            }
        ],
    }
    assert proposal["guarantors"][0]["actor"]["code"] == "USA"
    assert [r["hours"] for r in proposal["response_times"]] == [72]
    assert record["provenance"]["usage"] == {
        "prompt_tokens": 100,
        "completion_tokens": 20,
        "total_tokens": 120,
        "requests": 1,
        "cut_off": 0,
    }
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_a_failing_article_is_recorded_and_the_batch_goes_on(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "1.txt").write_text("First article.")
    (tmp_path / "in" / "2.txt").write_bytes(b"\xff\xfe not utf-8 \xff")
    (tmp_path / "in" / "3.txt").write_text("Third article.")
    out = tmp_path / "out.jsonl"
    script = Script([ok(draft_json()), status(500), status(500), status(500)])
    with LoopbackServer(script) as server:
        code, _, _ = run(
            "extract", str(tmp_path / "in"), "-o", str(out), "--base-url", server.base_url, "-q"
        )
    assert code == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(r["article"]["source"]).name for r in records] == ["1.txt", "2.txt", "3.txt"]
    assert [r["error"] and r["error"]["type"] for r in records] == [
        None,
        "InputError",
        "BackendError",
    ]
    assert "iconv" in records[1]["error"]["message"]
    assert records[2]["provenance"]["usage"]["requests"] == 3
    assert len(script.requests) == 4


def test_stdin_is_read_with_a_dash() -> None:
    with LoopbackServer(Script([ok(draft_json())])) as server:
        code, out, _ = run("extract", "-", "--base-url", server.base_url, "-q", input="Some text.")
    assert code == 0
    record = json.loads(out)
    assert record["article"]["source"] == "-"
    assert record["article"]["text"] == "Some text."
    assert record["proposals"] == []


def test_missing_input_is_a_usage_error() -> None:
    code, _, err = run("extract", "no/such/file.txt", "--base-url", "http://127.0.0.1:9/v1")
    assert code == 2
    assert err == "error: no/such/file.txt: no such file or directory\n"


def test_bad_base_url_is_a_usage_error(article: Path) -> None:
    code, _, err = run("extract", str(article), "--base-url", "localhost:8000")
    assert code == 2
    assert "is not an http(s) URL" in err


def test_rejected_key_stops_the_batch_and_keeps_the_old_output(
    article: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    out.write_text("previous run\n")
    with LoopbackServer(Script([status(401)])) as server:
        code, _, err = run("extract", str(article), "-o", str(out), "--base-url", server.base_url)
    assert code == 2
    assert "OPENAI_API_KEY" in err
    assert out.read_text() == "previous run\n"


def test_unknown_prompt_version_is_a_usage_error(article: Path) -> None:
    code, _, err = run(
        "extract", str(article), "--base-url", "http://127.0.0.1:9/v1", "--prompt", "nope"
    )
    assert code == 2
    assert "unknown prompt version 'nope'; available: extract-v1" in err


def test_eval_prints_the_table_and_json(tmp_path: Path) -> None:
    gold = ROOT / "tests" / "gold"
    record = {
        "schema_version": "1",
        "article": {
            "id": "sha256:x",
            "source": "seeds/003_3e415fc9002eb665.txt",
            "title": None,
            "published": None,
            "language": "en",
            "text": "NATO",
        },
        "proposals": [
            {
                "proposer": {"name": "Russia", "kind": "state", "code": "RUS"},
                "guarantors": [{"actor": {"name": "NATO", "kind": "organization", "code": "NATO"}}],
                "response_time": None,
                "excluded_territories": [],
                "conditions": [{"text": "Ukraine will not join NATO"}],
                "evidence": [{"quote": "NATO", "start": 0, "end": 4, "match": "exact"}],
            }
        ],
        "dropped": [],
        "provenance": {},
        "error": None,
    }
    predictions = tmp_path / "p.jsonl"
    predictions.write_text(json.dumps(record) + "\n")
    code, out, _ = run("eval", "--gold", str(gold), str(predictions))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["field", "precision", "recall", "F1", "support"]
    assert lines[1].split() == ["proposers", "1.000", "1.000", "1.000", "1"]
    assert lines[2].split() == ["guarantors", "1.000", "1.000", "1.000", "1"]
    code, out, _ = run("eval", "--gold", str(gold), str(predictions), "--json")
    figures = json.loads(out)
    assert figures["fields"]["conditions"]["recall"] == 1.0
    assert figures["grounding"] == {"matched": 1, "total": 1, "share": 1.0}


def test_eval_names_a_bad_line(tmp_path: Path) -> None:
    predictions = tmp_path / "p.jsonl"
    predictions.write_text("{}\nnot json\n")
    code, _, err = run("eval", "--gold", str(ROOT / "tests" / "gold"), str(predictions))
    assert code == 2
    assert err.startswith(f"error: {predictions}:1")


def test_load_prints_row_counts_and_is_idempotent(tmp_path: Path) -> None:
    golden = sorted((ROOT / "tests" / "golden").glob("*.json"))[:2]
    lines = []
    for path in golden:
        data = json.loads(path.read_text(encoding="utf-8"))
        data["provenance"].update(
            base_url="http://x/v1", extracted_at="2026-01-01T00:00:00+00:00", extractor_version="1"
        )
        lines.append(json.dumps(data))
    records = tmp_path / "out.jsonl"
    records.write_text("\n".join(lines) + "\n")
    code, out, _ = run("load", str(records), "--db")
    assert code == 0
    assert (tmp_path / "out.sqlite").is_file()
    assert out.splitlines()[0] == (
        f"loaded into sqlite:///{tmp_path / 'out.sqlite'}: 2 new extractions, 0 already there"
    )
    assert out.splitlines()[1].split() == ["table", "added", "rows"]
    assert out.splitlines()[2].split() == ["articles", "2", "2"]
    code, out, _ = run("load", str(records), "--db", f"sqlite:///{tmp_path / 'out.sqlite'}")
    assert code == 0
    assert "0 new extractions, 2 already there" in out.splitlines()[0]


def test_extract_with_db_loads_what_it_wrote(article: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Script([ok(draft_json())])) as server:
        code, _, err = run(
            "extract", str(article), "-o", str(out), "--base-url", server.base_url, "--db"
        )
    assert code == 0, err
    assert "1 new extractions, 0 already there" in err
    assert (tmp_path / "out.sqlite").is_file()


def test_db_upgrade_reports_the_revision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    code, out, _ = run("db", "upgrade", "--db", url)
    assert (code, out) == (0, f"{url}: schema none -> 0006\n")
    code, out, _ = run("db", "upgrade", "--db", url)
    assert (code, out) == (0, f"{url}: schema 0006 -> 0006\n")


def test_load_of_a_bad_file_names_the_line(tmp_path: Path) -> None:
    records = tmp_path / "bad.jsonl"
    records.write_text("not json\n")
    code, _, err = run("load", str(records), "--db", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert code == 2
    assert err.startswith(f"error: {records}:1")


def test_load_of_a_record_of_another_schema_names_it(tmp_path: Path) -> None:
    data = json.loads(sorted((ROOT / "tests" / "golden").glob("*.json"))[0].read_text())
    data["schema_version"] = "3"
    data["proposals"] = [
        {k: v for k, v in p.items() if k != "co_proposers"} for p in data["proposals"]
    ]
    records = tmp_path / "older.jsonl"
    records.write_text(json.dumps(data) + "\n")
    code, _, err = run("load", str(records), "--db", f"sqlite:///{tmp_path / 'x.sqlite'}")
    assert code == 2
    assert err.startswith(
        f"error: {records}: record 1 is not an extraction record of schema version 4 "
        "(Input should be '4' at schema_version)"
    )
    assert not (tmp_path / "x.sqlite").exists()


def test_eval_compares_files_side_by_side_per_gold_set(tmp_path: Path) -> None:
    golden = [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted((ROOT / "tests" / "golden").glob("*.json"))
    ]
    guided = tmp_path / "guided.jsonl"
    guided.write_text("".join(json.dumps(r) + "\n" for r in golden))
    empty = [{**r, "proposals": [], "provenance": {"strategy": "nothing"}} for r in golden]
    nothing = tmp_path / "nothing.jsonl"
    nothing.write_text("".join(json.dumps(r) + "\n" for r in empty))
    gold = ROOT / "tests" / "gold"
    code, out, _ = run(
        "eval", "--gold", str(gold), "--gold", str(gold / "corpus"), str(guided), str(nothing)
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"{gold} (5 articles): F1 (precision / recall)"
    assert lines[1].split() == ["field", "guided", "nothing"]
    assert lines[2] == (
        "proposers             1.000 (1.00 / 1.00)     0.000 (- / 0.00)        support 4"
    )
    assert lines[7].split() == ["has_proposal", "1.000", "(n=5)", "0.000", "(n=5)", "accuracy",
                                "(articles)"]  # fmt: skip
    assert f"{gold / 'corpus'} (12 articles): F1 (precision / recall)" in lines
    assert lines[lines.index("all (17 articles): F1 (precision / recall)") + 3].startswith(
        "guarantors            0.950 (0.90 / 1.00)     0.000 (- / 0.00)        support 16"
    )
    # Each attribute, and under it the constant answer on the same records.
    assert lines[9:11] == [
        "position              0.895 (n=19)            - (n=0)                 "
        "accuracy (guarantors scored)",
        "  constant unknown    0.474 (n=19)            - (n=0)",
    ]


def _commands(group: click.Group, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


def test_extract_help_shows_every_setting_with_its_flag_and_variable() -> None:
    code, out, _ = run("extract", "--help")
    assert code == 0
    flat = " ".join(out.split())
    for setting in config.SETTINGS.values():
        if setting.flag is not None:
            assert setting.flag in flat
            assert f"[env {setting.declared.variable}; default {setting.shown_default}]" in flat


def test_a_settings_flag_is_the_declared_one_wherever_it_appears() -> None:
    """No command declares a setting's flag by hand: each has the declared help, variable and
    no default of its own (so the variable and the default apply), and every flag naming a
    variable is a declared setting's."""
    seen = set()
    for path, command in _commands(cli):
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            setting = config.SETTINGS.get(param.name or "")
            if setting is None:
                assert "[env " not in (param.help or ""), (path, param.name)
                continue
            seen.add(param.name)
            assert param.opts == [setting.flag], (path, param.name)
            assert param.help == setting_help(setting), (path, param.name)
            assert param.default is None, (path, param.name)
    assert seen == {s.name for s in config.SETTINGS.values() if s.flag is not None}


def test_every_command_ends_an_error_one_way(tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.jsonl")
    for args in (("report", missing, "-o", str(tmp_path / "r.html")), ("load", missing)):
        code, out, err = run(*args)
        assert (code, out) == (2, "")
        assert err.startswith("error: ") and err.count("\n") == 1, err
        with pytest.raises(InputError):
            run(*args, "--traceback")


def test_ctrl_c_exits_130_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def interrupted(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(evaluate, "load_gold_sets", interrupted)
    code, _, err = run("eval", "--gold", str(tmp_path), str(tmp_path / "p.jsonl"))
    assert code == 130
    assert err == "error: interrupted: re-run the same command to finish\n"
