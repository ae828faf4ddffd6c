"""The pipeline on a local Ray cluster (two CPUs, bound to 127.0.0.1, started once for the module):
records equal to one process's for the seeds and for an article table, a worker killed mid-run,
a resumed run, a shared rate limit, and the vLLM path up to the processor's rows with a stand-in
processor. The answers come from a loopback server of the tests' own (hand-built, picked from
the request body alone, so every path gets the same answer to the same request); the live test
at the end asks the embedded model.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner, Result
from handbuilt import LoopbackServer, Script, answer, content_of

from extractor import config
from extractor.cli import cli
from extractor.io import articles
from extractor.model import embedded
from extractor.runs import raydata
from extractor.runs.method import resolve_method
from extractor.schemas import ExtractionRecord

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
TESTS = Path(__file__).resolve().parent

if importlib.util.find_spec("ray") is None and os.environ.get("CI") != "true":
    pytest.skip("the ray extra is not installed (make install has it)", allow_module_level=True)
# Imported here first, so that the local cluster keeps to 127.0.0.1 (and fails under CI when
# the extra is missing).
ray = raydata.import_ray(local=True)
# Ray Data reads deprecated settings of its own while it plans a dataset.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")


@pytest.fixture(scope="module", autouse=True)
def local_cluster() -> Iterator[None]:
    """One local cluster for the module, shut down after it. Workers import the tests' helpers
    (the stand-in processor) from tests/."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTHONPATH", os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]))
        with raydata.cluster(raydata.LOCAL):
            yield


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def records_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without the time it was made (the only field two equal runs may differ in)."""
    provenance = {k: v for k, v in record["provenance"].items() if k != "extracted_at"}
    return {**record, "provenance": provenance}


def extract(*args: str) -> Result:
    result = invoke("extract", *args, "--no-cache", "-q")
    assert result.exit_code == 0, result.stderr
    return result


@pytest.mark.parametrize("strategy", ["chunked", "single"])
def test_ray_gives_the_records_one_process_gives_for_the_seeds(
    tmp_path: Path, strategy: str
) -> None:
    one, on_ray = tmp_path / "one.jsonl", tmp_path / "ray.jsonl"
    with LoopbackServer(Script([answer] * 500)) as server:
        flags = ("--base-url", server.base_url, "--strategy", strategy, "--max-reasks", "0")
        extract(str(SEEDS), "-o", str(one), *flags)
        asked_once = len(server.script.requests)
        extract(str(SEEDS), "-o", str(on_ray), *flags, "--ray", "--ray-workers", "2", "-j", "2")
        assert len(server.script.requests) == 2 * asked_once  # each request sent once more
    expected, records = records_of(one), records_of(on_ray)
    assert len(records) == 5
    assert [comparable(r) for r in records] == [comparable(r) for r in expected]
    assert any(r["proposals"] or r["dropped"] for r in records)
    if strategy == "chunked":
        assert any(
            g["actor"]["code"] for r in records for p in r["proposals"] for g in p["guarantors"]
        )


def seed_table(path: Path) -> Path:
    """A Parquet article table of the seeds with metadata columns, the text under ``body``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [
        {
            "id": seed.name,
            "body": seed.read_text(encoding="utf-8"),
            "url": f"https://news.example/{seed.stem}",
            "outlet": "Example News",
            "published": "29 марта 2022 года",
        }
        for seed in sorted(SEEDS.glob("*.txt"))
    ]
    pq.write_table(pa.Table.from_pylist(rows), path)
    return path


def test_an_article_table_on_ray_gives_the_records_of_one_process(tmp_path: Path) -> None:
    table = seed_table(tmp_path / "articles.parquet")
    one, on_ray = tmp_path / "one.jsonl", tmp_path / "ray.jsonl"
    with LoopbackServer(Script([answer] * 500)) as server:
        flags = ("--base-url", server.base_url, "--columns", "text=body", "--max-reasks", "0")
        extract(str(table), "-o", str(one), *flags)
        extract(str(table), "-o", str(on_ray), *flags, "--ray")
    expected, records = records_of(one), records_of(on_ray)
    assert [comparable(r) for r in records] == [comparable(r) for r in expected]
    assert [r["article"]["source"] for r in records] == sorted(p.name for p in SEEDS.glob("*.txt"))
    assert {r["article"]["published"] for r in records} == {"2022-03-29"}


def test_a_rerun_on_ray_extracts_only_what_the_output_lacks(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with LoopbackServer(Script([answer] * 500)) as server:
        flags = ("--base-url", server.base_url, "--strategy", "single", "--max-reasks", "0")
        flags = (*flags, "--ray")
        extract(str(SEEDS), "-o", str(out), *flags)
        first = records_of(out)
        assert len(server.script.requests) == 5
        # As if killed after two records: the partial file holds them, the output is not there.
        (tmp_path / "out.jsonl.partial").write_text(
            "".join(json.dumps(r) + "\n" for r in first[:2])
        )
        out.unlink()
        result = invoke("extract", str(SEEDS), "-o", str(out), *flags, "--no-cache")
        assert result.exit_code == 0, result.stderr
        assert len(server.script.requests) == 5 + 3
        assert "3 extracted, 0 from the cache, 2 already done" in result.stderr
        again = invoke("extract", str(SEEDS), "-o", str(out), *flags, "--no-cache")
        assert len(server.script.requests) == 8  # nothing left to ask
        assert "0 extracted, 0 from the cache, 5 already done" in again.stderr
    records = records_of(out)
    assert records[:2] == first[:2]  # kept as they were, time included
    assert [comparable(r) for r in records] == [comparable(r) for r in first]


def test_a_malformed_answer_on_ray_is_that_articles_error_and_the_batch_goes_on(
    tmp_path: Path,
) -> None:
    from test_hostile import ARTICLE, MALFORMED, WHY, malformed_server

    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(len(MALFORMED) + 1):
        (folder / f"{n}.txt").write_text(f"{ARTICLE} Report {n}.")
    out = tmp_path / "out.jsonl"
    with malformed_server() as server:
        flags = ("--base-url", server.base_url, "--strategy", "single", "--ray", "-j", "2")
        result = invoke("extract", str(folder), "-o", str(out), *flags, "--no-cache", "-q")
    assert result.exit_code == 1, result.stderr
    assert "Traceback" not in result.stderr
    by_name = {Path(r["article"]["source"]).stem: r for r in records_of(out)}
    assert sorted(by_name) == [str(n) for n in range(len(MALFORMED) + 1)]
    for n, name in enumerate(MALFORMED):
        assert by_name[str(n)]["error"]["type"] == "OutputError", name
        assert WHY[name] in by_name[str(n)]["error"]["message"], name
    assert by_name[str(len(MALFORMED))]["error"] is None


def _extractor_workers() -> list[int]:
    """Process ids of the Ray workers running the extraction actors."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            title = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"ray::" in title and b"Extractor" in title:
            found.append(int(entry.name))
    return found


def test_a_worker_killed_mid_run_is_retried_with_no_record_lost_or_repeated(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(12):
        (folder / f"{n:02d}.txt").write_text(
            f"Article {n}. Kyiv asked Washington to guarantee its security within 72 hours.\n"
        )
    one, on_ray = tmp_path / "one.jsonl", tmp_path / "ray.jsonl"
    killed: list[int] = []

    def slow_answer(request: httpx2.Request) -> httpx2.Response:
        time.sleep(0.15)
        return answer(request)

    with LoopbackServer(Script([answer] * 100)) as server:
        flags = ("--base-url", server.base_url, "--strategy", "single", "--max-reasks", "0")
        extract(str(folder), "-o", str(one), *flags)
    script = Script([slow_answer] * 100)

    def kill_one_worker() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(script.requests) < 4:
            time.sleep(0.02)
        workers = _extractor_workers()
        if workers:
            os.kill(workers[0], signal.SIGKILL)
            killed.append(workers[0])

    with LoopbackServer(script) as server:
        flags = ("--base-url", server.base_url, "--strategy", "single", "--max-reasks", "0")
        on_ray_url = server.base_url
        killer = threading.Thread(target=kill_one_worker)
        killer.start()
        extract(str(folder), "-o", str(on_ray), *flags, "--ray", "--ray-workers", "2", "-j", "2")
        killer.join()
    assert killed, "no extraction worker was found to kill"
    records = records_of(on_ray)
    assert [r["article"]["source"] for r in records] == sorted(str(p) for p in folder.glob("*.txt"))
    # Another server answered the run without Ray: its address aside, the records are the same.
    expected = [comparable(r) for r in records_of(one)]
    for record in expected:
        record["provenance"]["base_url"] = on_ray_url
    assert [comparable(r) for r in records] == expected
    # Every article was asked at least once; the killed worker's block, if it was in flight,
    # was asked again, and its records still came out once each.
    assert len(script.requests) >= 12


def test_the_rate_limit_is_one_for_the_whole_cluster() -> None:
    limiter = raydata.shared_limiter(rpm=2, tpm=None)
    assert limiter is not None

    @ray.remote(num_cpus=0)
    def ask(limiter: raydata.ClusterLimiter) -> float:
        ticket = limiter.acquire(10)
        limiter.settle(ticket, 12)
        return ticket[0]

    # Two requests from two tasks fit the minute; a third, from a third task, has to wait.
    # (Starting two task workers on a loaded two-core machine can take most of a minute.)
    assert sorted(ray.get([ask.remote(limiter), ask.remote(limiter)], timeout=120)) == [0.0, 1.0]
    with pytest.raises(ray.exceptions.GetTimeoutError):
        ray.get(ask.remote(limiter), timeout=2)


def test_a_run_budget_on_ray_is_refused_before_any_work(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["extract", str(SEEDS), "--base-url", "http://127.0.0.1:9/v1", "--ray", "--budget", "9"],
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("error: --budget cannot be kept on a Ray cluster")


# ---------------------------------------------------------------------------------------------
# The vLLM path, up to the processor's rows: a stand-in processor answers the request rows.


def stand_in_processor(dataset: Any) -> Any:
    """What ``vllm_processor`` does to the request rows, with hand-built answers instead of a
    model: the same columns come back with ``generated_text`` and token counts."""

    def respond(row: dict[str, Any]) -> dict[str, Any]:
        schema = json.loads(row["sampling_params"]["structured_outputs"]["json"])
        body = {
            "messages": row["messages"],
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": schema["title"], "schema": schema},
            },
        }
        content, finish = content_of(body)
        limit = row["sampling_params"]["max_tokens"]
        return {
            **row,
            "generated_text": content,
            "num_input_tokens": len(row["messages"][-1]["content"]) // 10,
            "num_generated_tokens": limit if finish == "length" else 7,
        }

    return dataset.map(respond)


def test_the_vllm_path_plans_answers_and_concludes_as_online(tmp_path: Path) -> None:
    settings = config.resolve(
        base_url="http://127.0.0.1:9/v1", model="handbuilt", mode="json_schema", env={}
    )
    todo = [
        (i, a)
        for i, a in enumerate(articles.read([str(p) for p in sorted(SEEDS.glob("*.txt"))]))
        if isinstance(a, articles.Article)
    ]
    online = tmp_path / "online.jsonl"
    with LoopbackServer(Script([answer] * 500)) as server:
        extract(
            str(SEEDS),
            "-o",
            str(online),
            "--base-url",
            server.base_url,
            "--model",
            "handbuilt",
            "--mode",
            "json_schema",
            "--max-reasks",
            "0",
        )
        sent = server.script.bodies()
    rows = [
        r
        for i, a in todo
        for r in raydata.request_rows(raydata.article_row(i, a), resolve_method(settings))
    ]
    assert [r["messages"] for r in rows] == [b["messages"] for b in sent]
    assert [json.loads(r["sampling_params"]["structured_outputs"]["json"]) for r in rows] == [
        b["response_format"]["json_schema"]["schema"] for b in sent
    ]
    assert {r["sampling_params"]["max_tokens"] for r in rows} <= {b["max_tokens"] for b in sent}
    records = raydata.extract_with_processor(todo, settings, stand_in_processor)
    expected = records_of(online)
    assert len(records) == len(expected) == 5
    for record, before in zip(records, expected, strict=True):
        assert record.provenance.base_url == "batch:ray.data.llm"
        got = record.model_dump(mode="json")
        assert got["article"] == before["article"]
        assert got["proposals"] == before["proposals"]
        # The same values are dropped; the reasons differ where online re-asks and a batch
        # answer cannot be re-asked.
        assert [(d["field"], d["value"]) for d in got["dropped"]] == [
            (d["field"], d["value"]) for d in before["dropped"]
        ]


# ---------------------------------------------------------------------------------------------


@pytest.mark.live
def test_ray_on_the_embedded_model_gives_the_records_of_one_process(tmp_path: Path) -> None:
    seeds = [str(p) for p in sorted(SEEDS.glob("*.txt"))[:2]]
    one, on_ray = tmp_path / "one.jsonl", tmp_path / "ray.jsonl"
    with embedded.serve() as url:
        flags = ("--base-url", url, "--mode", "llamacpp", "--model", config.EMBEDDED_MODEL)
        extract(*seeds, "-o", str(one), *flags)
        extract(*seeds, "-o", str(on_ray), *flags, "--ray", "--ray-workers", "2")
    expected = [ExtractionRecord.model_validate(r) for r in records_of(one)]
    records = [ExtractionRecord.model_validate(r) for r in records_of(on_ray)]
    assert [comparable(r.model_dump(mode="json")) for r in records] == [
        comparable(r.model_dump(mode="json")) for r in expected
    ]
