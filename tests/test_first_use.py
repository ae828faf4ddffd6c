"""What a user meets on a first run, through the installed command line in a process of its
own (and the Python interface where it has the same path): a model named with no server, the
causes of errors on screen, the pace of a long run, what a directory holds, titles.

Every answer a server gives here is hand-built (``handbuilt``); nothing came from a model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from handbuilt import LoopbackServer, Script, draft_json, ok
from test_runner import Server

import extractor

COMMAND = [sys.executable, "-c", "from extractor.cli import main; main()"]
ROOT = Path(__file__).resolve().parent.parent


def cli(*args: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """The command line in a process of its own, with no server configured, the record cache
    under ``tmp_path`` and ``env`` over the environment."""
    environ = {
        k: v
        for k, v in os.environ.items()
        if k not in ("OPENAI_BASE_URL", "OPENAI_API_KEY") and not k.startswith("EXTRACTOR_")
    }
    environ |= {"EXTRACTOR_CACHE_DIR": str(tmp_path / "cache"), "PYTHONPATH": str(ROOT), **env}
    return subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=environ, timeout=120, check=False
    )


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


ARTICLE = "Ukraine asked the US to guarantee its security within 72 hours.\n"


# --- a model named with no server ----------------------------------------------------------------


def test_a_model_the_embedded_server_does_not_serve_with_no_server_is_a_usage_error(
    tmp_path: Path,
) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = cli("extract", str(article), "--model", "gpt-4o-mini", "-o", str(out), tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    # One line, naming both ways to give the server; nothing started, nothing written.
    [line] = done.stderr.splitlines()
    assert line.startswith("error: model 'gpt-4o-mini' needs its server")
    assert "--base-url" in line and "OPENAI_BASE_URL" in line
    assert "embedded model server" not in done.stderr
    assert not out.exists() and not (tmp_path / "out.jsonl.partial").exists()


def test_the_python_interface_refuses_it_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(extractor.ConfigError, match="needs its server: give --base-url"):
        extractor.extract(ARTICLE, model="gpt-4o-mini", cache=False)
    with pytest.raises(extractor.ConfigError, match="OPENAI_BASE_URL"):
        list(extractor.extract_many([ARTICLE], model="gpt-4o-mini", cache=False))


def test_a_strategy_that_asks_no_model_names_none_whatever_the_model(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = cli(
        "extract", str(article), "--model", "gpt-4o-mini", "--strategy", "rules", "-o", str(out),
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    [record] = records(out)
    assert record["provenance"]["model"] == "none"


# --- errors on screen ----------------------------------------------------------------------------


def test_a_wrong_base_url_says_so_on_screen_in_one_line(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.txt", "b.txt"):
        (folder / name).write_text(ARTICLE, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = cli(
        "extract", str(folder), "-o", str(out), "--base-url", "http://127.0.0.1:9/v1",
        "--strategy", "single", "--no-cache",
        tmp_path=tmp_path, EXTRACTOR_TRANSPORT_RETRIES="0",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    [line] = [line for line in done.stderr.splitlines() if "failed the same way" in line]
    assert line.startswith("all 2 failed the same way: BackendError: cannot reach ")
    assert "http://127.0.0.1:9/v1" in line and "is the server running?" in line


def test_the_summary_groups_the_causes_of_errors_with_counts(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):
        (folder / name).write_text(ARTICLE, encoding="utf-8")
    (folder / "d.txt").write_bytes(b"\xff\xfe not utf-8 \xff")
    done = cli(
        "extract", str(folder), "-o", str(tmp_path / "out.jsonl"),
        "--base-url", "http://127.0.0.1:9/v1", "--strategy", "single", "--no-cache",
        tmp_path=tmp_path, EXTRACTOR_TRANSPORT_RETRIES="0",
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    lines = done.stderr.splitlines()
    start = lines.index("errors by cause (4 articles):")
    assert lines[start + 1].startswith("  3 articles: BackendError: cannot reach http://127.0.0.1")
    assert lines[start + 1].endswith(f"(e.g. {folder / 'a.txt'})")
    assert lines[start + 2].startswith("  1 article: InputError: not valid UTF-8 (byte 0)")
    assert lines[start + 2].endswith(f"({folder / 'd.txt'})")


# --- long runs -----------------------------------------------------------------------------------


def test_a_run_all_from_the_cache_says_so_rather_than_a_rate_of_nought(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    first = cli("extract", str(article), "--strategy", "rules", "-o", str(tmp_path / "1.jsonl"),
                tmp_path=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "articles/min" in first.stderr
    again = cli("extract", str(article), "--strategy", "rules", "-o", str(tmp_path / "2.jsonl"),
                tmp_path=tmp_path)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "1 from the cache" in again.stderr
    assert "0.0 articles/min" not in again.stderr
    assert "waiting on the model; all from the cache -> " in again.stderr


def test_the_progress_bar_shows_the_pace_and_the_time_left(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(4):
        (folder / f"{i}.txt").write_text(f"Article {i} says Ukraine asked the US to guarantee.\n")
    with LoopbackServer(Server(delay=0.6)) as server:
        done = cli(
            "extract", str(folder), "-o", str(tmp_path / "out.jsonl"),
            "--base-url", server.base_url, "--strategy", "single", "--no-cache",
            tmp_path=tmp_path, TTY_COMPATIBLE="1", TTY_INTERACTIVE="1", COLUMNS="200",
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Refreshed while it runs: after the first article, its pace and the time left.
    assert "/min, 0:00:0" in done.stderr and " left" in done.stderr


def test_a_directory_passes_over_its_own_documentation(tmp_path: Path) -> None:
    folder = tmp_path / "news"
    folder.mkdir()
    (folder / "h01.txt").write_text(ARTICLE, encoding="utf-8")
    # A collection's notes name states and guarantees too: they are no article.
    notes = "# Sources\n\nArticles on how the US would guarantee Ukraine's security.\n"
    (folder / "SOURCES.md").write_text(notes, encoding="utf-8")
    (folder / "README.md").write_text(notes, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    done = cli("extract", str(folder), "--strategy", "rules", "-o", str(out), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [Path(r["article"]["source"]).name for r in records(out)] == ["h01.txt"]
    assert "skipped 2 files that are not articles" in done.stderr
    assert "SOURCES.md" in done.stderr
    # Named on its own, a file is read whatever its name.
    named = cli("extract", str(folder / "SOURCES.md"), "--strategy", "rules", tmp_path=tmp_path)
    assert named.returncode == 0, named.stderr
    assert json.loads(named.stdout)["article"]["source"].endswith("SOURCES.md")


# --- titles --------------------------------------------------------------------------------------


def test_titles_reach_the_record_without_markup_or_page_boilerplate(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    body = "\n\nUkraine asked the US to guarantee its security.\n"
    (folder / "1.txt").write_text("\n# Russia's Demand of NATO\n" + body, encoding="utf-8")
    (folder / "2.txt").write_text(
        '<span style="color:#000000; font-size:21.0pt; font-weight:bold;">Security '
        "“guarantees” for Ukraine are hazy</span>\n" + body,
        encoding="utf-8",
    )
    (folder / "3.txt").write_text(
        " date 2022-04-01  icon bookmark-bicon bookmarkicon cameraicon checkicon chevron\n"
        "1 Apr, 2022 14:18\nHomeRussia & FSU\n\n"
        "Kiev ‘unlikely’ to get NATO-like protection from West – media\n" + body,  # noqa: RUF001
        encoding="utf-8",
    )
    (folder / "4.md").write_text("**Talks in [Istanbul](https://x.invalid) &amp; after**\n" + body)
    (folder / "5.txt").write_text(
        '<span style="font-size:14.9pt;">Europe</span> <span style="font-size:14.9pt;">| After '
        'a deal</span>\n<span style="font-size:21.0pt;">The headline</span>\n'
        '<span style="font-size:14.9pt;">The standfirst</span>\n' + body,
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    done = cli("extract", str(folder), "--strategy", "rules", "-o", str(out), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [r["article"]["title"] for r in records(out)] == [
        "Russia's Demand of NATO",
        "Security “guarantees” for Ukraine are hazy",
        "Kiev ‘unlikely’ to get NATO-like protection from West – media",  # noqa: RUF001
        "Talks in Istanbul & after",
        "The headline",  # set largest among the styled opening lines, not the kicker above
    ]


# --- the Python interface ------------------------------------------------------------------------

SEED = ROOT / "seeds" / "002_54d6a3d48c9ecc01.txt"


def test_a_string_naming_an_existing_file_is_read_as_that_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(ROOT)
    record = extractor.extract("seeds/002_54d6a3d48c9ecc01.txt", strategy="rules")
    assert record.article.source == "seeds/002_54d6a3d48c9ecc01.txt"
    assert record.article.text == SEED.read_text(encoding="utf-8")
    assert record.proposals
    # The same as a Path, and as the text itself (then the source is "-").
    as_path = extractor.extract(Path("seeds/002_54d6a3d48c9ecc01.txt"), strategy="rules")
    as_text = extractor.extract(SEED.read_text(encoding="utf-8"), strategy="rules")
    assert as_path.proposals == record.proposals == as_text.proposals


def test_a_string_that_looks_like_a_missing_file_is_refused() -> None:
    with pytest.raises(
        extractor.InputError, match=r"seeds/nope\.txt: no such file; .*Path\(\.\.\.\)"
    ):
        extractor.extract("seeds/nope.txt", strategy="rules")
    # A sentence is text, whatever it ends with.
    record = extractor.extract("Ukraine wants guarantees, see notes.txt", strategy="rules")
    assert record.article.text == "Ukraine wants guarantees, see notes.txt"


def test_a_record_reads_in_a_few_lines_in_a_repl() -> None:
    record = extractor.extract(SEED, strategy="rules")
    shown = repr(record)
    assert str(record) == shown
    assert len(shown) < 600, shown
    lines = shown.splitlines()
    assert lines[0].startswith(f"<Record {SEED}")
    assert f"{len(record.proposals)} proposal" in lines[0]
    guarantors = [g.actor.code or g.actor.name for g in record.proposals[0].guarantors]
    assert lines[1].startswith("  1. ") and ", ".join(guarantors) in lines[1]
    assert record.article.text[:200] not in shown
    # A list of records too (what a notebook shows for it).
    assert len(repr([record, record])) < 1300
    failed = extractor.extract("Ukraine.", base_url="http://127.0.0.1:9/v1", strategy="single",
                               retry_budget=0, timeout=2, cache=False)  # fmt: skip
    assert "  error: BackendError: cannot reach http://127.0.0.1:9/v1" in repr(failed)


def test_records_as_tidy_frames_one_per_exported_table(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    from extractor.outputs import export

    made = [extractor.extract(p, strategy="rules") for p in sorted((ROOT / "seeds").glob("*.txt"))]
    frames = extractor.to_pandas(made)
    export.write(made, tmp_path, "parquet")
    written = {p.stem: pq.read_table(p) for p in tmp_path.glob("*.parquet")}
    assert set(frames) == set(written)
    for name, frame in frames.items():
        assert list(frame.columns) == written[name].column_names, name
        assert len(frame) == written[name].num_rows, name
    assert len(frames["guarantors"]) == sum(len(p.guarantors) for r in made for p in r.proposals)
    tables = extractor.to_arrow(made)
    assert tables["articles"].schema == written["articles"].schema


def test_the_notebook_view_has_a_legend_of_its_colours() -> None:
    html = extractor.extract(SEED, strategy="rules")._repr_html_()
    legend = html.split('<p class="legend">', 1)[1].split("</p>", 1)[0]
    for field in ("proposal", "guarantor", "response time", "territory", "condition", "stance"):
        assert f">{field}</span>" in legend
    assert "fuzzy match" in legend


def test_the_python_interface_uses_the_record_cache_like_the_command_line() -> None:
    answer = draft_json(
        quote="Ukraine asked the US to guarantee its security",
        summary="Ukraine asks the US.",
        guarantors=[{"name": "the US", "quote": "the US"}],
    )
    script = Script([ok(answer), ok(answer)])
    with LoopbackServer(script) as server:
        given = {"base_url": server.base_url, "strategy": "single", "model": "handbuilt"}
        first = extractor.extract(ARTICLE, **given)
        again = extractor.extract(ARTICLE, source="again.txt", **given)
        many = list(extractor.extract_many([ARTICLE], **given))
        assert len(script.requests) == 1  # the second and third from the cache
        assert again.article.source == "again.txt"
        assert again.proposals == first.proposals == many[0].proposals
        extractor.extract(ARTICLE, cache=False, **given)
        assert len(script.requests) == 2


# --- scoring records made from a table -----------------------------------------------------------


def test_eval_scores_records_of_a_table_by_the_article_text(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    rows = [{"id": f"row-{n}", "text": p.read_text(encoding="utf-8")} for n, p in enumerate(seeds)]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "seeds.parquet")
    for made, given in (
        ("table.jsonl", tmp_path / "seeds.parquet"),
        ("files.jsonl", ROOT / "seeds"),
    ):
        done = cli("extract", str(given), "--strategy", "rules", "-o", str(tmp_path / made),
                   tmp_path=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
    gold = str(ROOT / "tests" / "gold")
    scored = {}
    for made in ("table.jsonl", "files.jsonl"):
        done = cli("eval", "--gold", gold, "--articles", str(ROOT / "seeds"), "--json",
                   str(tmp_path / made), tmp_path=tmp_path)  # fmt: skip
        assert done.returncode == 0, done.stderr
        scored[made] = json.loads(done.stdout)
    assert scored["table.jsonl"]["unscored"] == []
    assert scored["table.jsonl"]["fields"] == scored["files.jsonl"]["fields"]
    assert scored["table.jsonl"]["fields"]["guarantors"]["support"] > 0
    # Without the articles at hand, table rows have no file name to match.
    done = cli("eval", "--gold", gold, "--json", str(tmp_path / "table.jsonl"), tmp_path=tmp_path)
    assert len(json.loads(done.stdout)["unscored"]) == len(seeds)


# --- Ray at small scale --------------------------------------------------------------------------


@pytest.mark.skipif(
    importlib.util.find_spec("ray") is None and os.environ.get("CI") != "true",
    reason="the ray extra is not installed (make install has it)",
)
def test_a_ray_run_is_quiet_unless_verbose_and_triggers_no_deprecation(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(2):
        (folder / f"{i}.txt").write_text(f"Article {i}: {ARTICLE}", encoding="utf-8")
    common = ("extract", str(folder), "--ray", "--strategy", "rules", "--no-cache")
    done = cli(*common, "-o", str(tmp_path / "ray.jsonl"), tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    # The project's own lines only: the bar and the three summary lines.
    assert len(done.stderr.splitlines()) == 4, done.stderr
    assert done.stderr.startswith("extracting ")
    plain = cli(*common[:2], "--strategy", "rules", "--no-cache", "-o", str(tmp_path / "one.jsonl"),
                tmp_path=tmp_path)  # fmt: skip
    assert [r["proposals"] for r in records(tmp_path / "ray.jsonl")] == [
        r["proposals"] for r in records(tmp_path / "one.jsonl")
    ]
    # With -v Ray speaks, but of nothing the project's own calls do wrong.
    loud = cli(*common, "-v", "-o", str(tmp_path / "loud.jsonl"), tmp_path=tmp_path)
    assert loud.returncode == 0, loud.stderr
    assert "Started a local Ray instance" in loud.stderr
    assert "deprecated" not in loud.stderr
    assert plain.returncode == 0


def test_common_hosted_models_have_a_built_in_price() -> None:
    from extractor.model import spending

    openai = "https://api.openai.com/v1"
    assert spending.price_for({}, "gpt-4o-mini", openai) == spending.Price(0.15, 0.6)
    assert spending.price_for({}, "gpt-4o-mini-2024-07-18", openai) == spending.Price(0.15, 0.6)
    # A server the table does not know (a local vLLM) or a model it does not list: no price.
    assert spending.price_for({}, "gpt-4o-mini", "http://127.0.0.1:8000/v1") is None
    assert spending.price_for({}, "Qwen/Qwen2.5-7B-Instruct", openai) is None
    # The user's own table comes first.
    mine = {"gpt-4o-mini": spending.Price(1.0, 2.0)}
    assert spending.price_for(mine, "gpt-4o-mini", openai) == spending.Price(1.0, 2.0)


def test_a_batch_job_for_another_model_is_not_run_on_the_embedded_server(tmp_path: Path) -> None:
    article = tmp_path / "a.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    job = tmp_path / "job"
    prepared = cli("batch", "prepare", str(article), "-d", str(job), "--model", "gpt-4o-mini",
                   "--strategy", "single", tmp_path=tmp_path)  # fmt: skip
    assert prepared.returncode == 0, prepared.stderr
    done = cli("batch", "run", str(job), tmp_path=tmp_path)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("error: the job's requests are for model 'gpt-4o-mini', which needs")
    assert "--base-url" in line and not (job / "results.jsonl").exists()
