"""The batch workflow: prepare, run, submit/status/fetch against a fake Batch API, collect.

No model: every completion here is hand-built (``handbuilt.answer`` picks one from the request
body alone, so the online run and the batch get the same answers), and the Batch API is a fake of
our own on 127.0.0.1 that serves hand-built files.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner, Result
from handbuilt import LoopbackServer, Script, answer, completion, status

from extractor.cli import cli
from extractor.runs import batch

SHORT = "Kyiv asked Washington to guarantee its security within 72 hours.\n"
LONG = "\n\n".join(
    [
        "Kyiv asked Washington to guarantee its security within 72 hours, officials said. " * 3,
        "The talks in Geneva went on for a week; delegations came and went without a word. " * 3,
        "Britain would also offer security guarantees, but only if a ceasefire holds first. " * 3,
    ]
)


IDS = [*(f"a000000-r{n:04d}" for n in range(6)), *(f"a000001-r{n:04d}" for n in range(3))]


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def prepare(
    job: Path, *paths: Path, strategy: str = "chunked", url: str = "", extra: tuple[str, ...] = ()
) -> Result:
    flags = ("--base-url", url or "http://127.0.0.1:9/v1", "--strategy", strategy, *extra)
    return invoke("batch", "prepare", *map(str, paths), "-d", str(job), *flags)


def answer_offline(job: Path, skip: tuple[str, ...] = ()) -> None:
    """Hand-built results for every request of ``job`` (but ``skip``), as a Batch API writes."""
    out = []
    for request in lines_of(job / batch.REQUESTS):
        if request["custom_id"] not in skip:
            response = {"status_code": 200, "request_id": "", "body": completion(request["body"])}
            out.append({"id": "x", "custom_id": request["custom_id"], "response": response})
    (job / batch.RESULTS).write_text("".join(json.dumps(o) + "\n" for o in out))


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text(LONG)
    (tmp_path / "in" / "b.txt").write_text(SHORT)
    return tmp_path / "in"


@pytest.mark.parametrize(
    ("strategy", "mode", "count"),
    [("single", "json_schema", 2), ("chunked", "json_schema", 9), ("chunked", "llamacpp", 9)],
)
def test_prepared_bodies_are_what_extract_sends(
    tmp_path: Path, corpus: Path, strategy: str, mode: str, count: int
) -> None:
    script = Script([answer] * 20)
    job = tmp_path / "job"
    # extract's mode is json_schema by default with a base URL; llamacpp must be asked for.
    extra = ("--model", "handbuilt") + (("--mode", mode) if mode == "llamacpp" else ())
    with LoopbackServer(script) as server:
        online = ("-o", str(tmp_path / "o.jsonl"), "--base-url", server.base_url, "--no-cache")
        # No retry budget: the long article's cut-off answer is not asked again, as in a batch.
        online = (*online, "--retry-budget", "0")
        result = invoke("extract", str(corpus), *online, "--strategy", strategy, "-q", *extra)
        assert result.exit_code == 0, result.stderr
        result = prepare(job, corpus, strategy=strategy, url=server.base_url, extra=extra)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"{count} requests for 2 articles (0 unreadable) -> ")
    requests = lines_of(job / batch.REQUESTS)
    assert len(script.requests) == count
    assert [r["body"] for r in requests] == script.bodies()
    assert {(r["method"], r["url"]) for r in requests} == {("POST", "/v1/chat/completions")}
    ids = IDS if strategy == "chunked" else ["a000000-r0000", "a000001-r0000"]
    assert [r["custom_id"] for r in requests] == ids
    manifest = json.loads((job / batch.MANIFEST).read_text())
    assert (manifest["settings"]["mode"], manifest["settings"]["model"]) == (mode, "handbuilt")
    assert [e["article"]["text"] for e in manifest["articles"]] == [LONG, SHORT]


def test_prepare_refuses_a_used_directory_and_lists_unreadable_inputs(
    tmp_path: Path, corpus: Path
) -> None:
    job = tmp_path / "job"
    (corpus / "c.txt").write_bytes(b"\xff\xfe not utf-8 \xff")
    result = prepare(job, corpus)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("9 requests for 2 articles (1 unreadable) -> ")
    before = (job / batch.REQUESTS).read_bytes()
    again = prepare(job, corpus / "b.txt")
    assert again.exit_code == 2
    assert again.stderr.startswith(f"error: {job} already holds a batch job")
    assert (job / batch.REQUESTS).read_bytes() == before
    [entry] = json.loads((job / batch.MANIFEST).read_text())["articles"][2:]
    assert entry["source"] == str(corpus / "c.txt")
    assert "not valid UTF-8" in entry["error"]
    assert [r["custom_id"] for r in lines_of(job / batch.REQUESTS)] == IDS
    answer_offline(job)
    result = invoke("batch", "collect", str(job / batch.RESULTS))
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["article"]["source"] for r in records] == [str(corpus / f"{n}.txt") for n in "abc"]
    assert [r["error"] and r["error"]["type"] for r in records] == [None, None, "InputError"]
    assert records[2]["error"]["message"] == entry["error"]
    assert records[2]["provenance"]["usage"]["requests"] == 0


def test_run_sends_each_request_once_and_resumes_after_a_cut(tmp_path: Path, corpus: Path) -> None:
    job = tmp_path / "job"
    prepare(job, corpus)
    requests = lines_of(job / batch.REQUESTS)
    script = Script([answer] * len(requests))
    with LoopbackServer(script) as server:
        result = invoke("batch", "run", str(job), "--base-url", server.base_url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("9 requests sent (0 failed, 0 already answered) in ")
    assert script.bodies() == [r["body"] for r in requests]
    results = lines_of(job / batch.RESULTS)
    assert [r["custom_id"] for r in results] == IDS
    for request, result_line in zip(requests, results, strict=True):
        assert result_line["error"] is None
        assert result_line["response"]["status_code"] == 200
        assert result_line["response"]["body"] == completion(request["body"])
    with LoopbackServer(Script([])) as server:
        again = invoke("batch", "run", str(job), "--base-url", server.base_url)
    assert again.exit_code == 0
    assert again.stdout.startswith("0 requests sent (0 failed, 9 already answered)")
    whole = (job / batch.RESULTS).read_bytes()
    (job / batch.RESULTS).write_bytes(whole[: whole.rstrip(b"\n").rfind(b"\n") + 20])
    script = Script([answer])
    with LoopbackServer(script) as server:
        again = invoke("batch", "run", str(job), "--base-url", server.base_url)
    assert again.exit_code == 0, again.stderr
    assert again.stdout.startswith("1 request sent (0 failed, 8 already answered)")
    assert script.bodies() == [requests[-1]["body"]]
    text = (job / batch.RESULTS).read_text()
    assert text.endswith("\n")
    assert sorted(r["custom_id"] for r in lines_of(job / batch.RESULTS)) == IDS


def recorded_waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The backoff waits of the run (the engine waits with asyncio.sleep), recorded, not waited."""
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(batch.asyncio, "sleep", wait)
    return waits


def test_run_writes_a_request_that_keeps_failing_with_its_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    waits = recorded_waits(monkeypatch)
    (tmp_path / "b.txt").write_text(SHORT)
    prepare(tmp_path / "job", tmp_path / "b.txt", strategy="single")
    script = Script([status(500)] * 3)
    with LoopbackServer(script) as server:
        result = invoke("batch", "run", str(tmp_path / "job"), "--base-url", server.base_url)
    assert result.exit_code == 1
    assert result.stdout.startswith("1 request sent (1 failed, 0 already answered)")
    # The online path's backoff: exponential from 1 s, with up to 1 s of jitter.
    assert len(script.requests) == 3
    assert len(waits) == 2
    assert 1.0 <= waits[0] <= 2.0
    assert 2.0 <= waits[1] <= 3.0
    [line] = lines_of(tmp_path / "job" / batch.RESULTS)
    assert line["custom_id"] == "a000000-r0000"
    assert line["response"] is None
    assert line["error"]["code"] == "500"
    assert "handbuilt 500" in line["error"]["message"]


def test_run_waits_as_retry_after_says(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    waits = recorded_waits(monkeypatch)
    (tmp_path / "b.txt").write_text(SHORT)
    prepare(tmp_path / "job", tmp_path / "b.txt", strategy="single")
    script = Script([status(429, {"retry-after": "3"}), answer])
    with LoopbackServer(script) as server:
        result = invoke("batch", "run", str(tmp_path / "job"), "--base-url", server.base_url)
    assert result.exit_code == 0, result.stderr
    assert (len(script.requests), waits) == (2, [3.0])
    [line] = lines_of(tmp_path / "job" / batch.RESULTS)
    assert line["response"]["status_code"] == 200


def test_every_request_gets_its_own_retry_budget(
    tmp_path: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded_waits(monkeypatch)
    monkeypatch.setenv("EXTRACTOR_RETRY_BUDGET", "1")
    prepare(tmp_path / "job", corpus)
    seen: set[bytes] = set()

    def once_failing(request: httpx2.Request) -> httpx2.Response:
        first = request.content not in seen
        seen.add(request.content)
        return status(500) if first else answer(request)

    script = Script([once_failing] * 18)
    with LoopbackServer(script) as server:
        result = invoke("batch", "run", str(tmp_path / "job"), "--base-url", server.base_url)
    # Nine requests, each retried once: more retries than one article's budget of one.
    assert result.exit_code == 0, result.stdout
    assert len(script.requests) == 18
    assert sorted(r["custom_id"] for r in lines_of(tmp_path / "job" / batch.RESULTS)) == IDS


def test_run_counts_a_request_answered_4xx_as_failed(tmp_path: Path) -> None:
    (tmp_path / "b.txt").write_text(SHORT)
    prepare(tmp_path / "job", tmp_path / "b.txt", strategy="single")
    with LoopbackServer(Script([status(400)])) as server:
        result = invoke("batch", "run", str(tmp_path / "job"), "--base-url", server.base_url)
    [line] = lines_of(tmp_path / "job" / batch.RESULTS)
    assert line["response"]["status_code"] == 400  # what the Batch API writes for a 4xx
    collected = invoke("batch", "collect", str(tmp_path / "job" / batch.RESULTS))
    assert collected.exit_code == 1  # collect treats it as failed ...
    assert (result.exit_code, result.stdout[:34]) == (1, "1 request sent (1 failed, 0 alread"), (
        "BUG: batch run counts an HTTP 400 answer as sent, not failed (exit 0, '0 failed'), "
        "though collect then refuses the result"
    )


@pytest.mark.parametrize("strategy", ["single", "chunked"])
def test_collect_gives_the_records_extract_gives(
    tmp_path: Path, corpus: Path, strategy: str
) -> None:
    online = tmp_path / "online.jsonl"
    job = tmp_path / "job"
    with LoopbackServer(Script([answer] * 20)) as server:
        flags = ("--base-url", server.base_url, "--strategy", strategy, "--no-cache", "-q")
        # Nothing asked again (a batch answer cannot be): no re-asks, no retry budget.
        flags = (*flags, "--max-reasks", "0", "--retry-budget", "0")
        result = invoke("extract", str(corpus), "-o", str(online), *flags)
        assert result.exit_code == 0, result.stderr
        prepare(job, corpus, strategy=strategy, url=server.base_url)
        assert invoke("batch", "run", str(job), "--base-url", server.base_url).exit_code == 0
    out = tmp_path / "batch.jsonl"
    result = invoke("batch", "collect", str(job / batch.RESULTS), "-o", str(out))
    assert result.exit_code == 0, result.stderr
    assert not (job / "rerun.txt").exists()
    expected, records = lines_of(online), lines_of(out)
    assert [r["proposals"] for r in records] == [r["proposals"] for r in expected]
    assert [r["dropped"] for r in records] == [r["dropped"] for r in expected]
    assert any(r["proposals"] for r in records)
    assert any(r["dropped"] for r in records)  # France, or the cut-off answer
    assert [r["article"] for r in records] == [r["article"] for r in expected]
    results = lines_of(job / batch.RESULTS)
    for index, (record, before) in enumerate(zip(records, expected, strict=True)):
        assert record["provenance"]["base_url"] == "batch:results.jsonl"
        bodies = [
            r["response"]["body"] for r in results if r["custom_id"].startswith(f"a{index:06d}-")
        ]
        usage = [body["usage"] for body in bodies]
        assert record["provenance"]["usage"] == {
            "prompt_tokens": sum(u["prompt_tokens"] for u in usage),
            "completion_tokens": sum(u["completion_tokens"] for u in usage),
            "total_tokens": sum(u["total_tokens"] for u in usage),
            "requests": len(usage),
            "cut_off": sum(body["choices"][0]["finish_reason"] == "length" for body in bodies),
        }
        assert record["provenance"]["usage"] == before["provenance"]["usage"]
    # The hand-built answers cut one whole-article answer off at max_tokens.
    assert any(r["provenance"]["usage"]["cut_off"] for r in records) == (strategy == "single")


def test_collect_lists_articles_with_a_missing_or_failed_result(
    tmp_path: Path, corpus: Path
) -> None:
    (corpus / "c.txt").write_text(SHORT.replace("Kyiv", "Tbilisi"))
    job = tmp_path / "job"
    prepare(job, corpus)
    answer_offline(job, skip=("a000000-r0003", "a000002-r0001"))
    with (job / batch.RESULTS).open("a") as handle:
        for custom_id in ("a000002-r0001", "a000001-r0000"):  # b's failed try came after its answer
            failed = {"custom_id": custom_id, "response": None, "error": {"message": "handbuilt"}}
            handle.write(json.dumps(failed) + "\n")
    result = invoke("batch", "collect", str(job / batch.RESULTS), "-o", str(tmp_path / "o.jsonl"))
    assert result.exit_code == 1
    assert [r["article"]["source"] for r in lines_of(tmp_path / "o.jsonl")] == [
        str(corpus / "b.txt")
    ]
    assert f"  {corpus / 'a.txt'}: request a000000-r0003 has no result\n" in result.stderr
    assert f"  {corpus / 'c.txt'}: request a000002-r0001 failed: handbuilt\n" in result.stderr
    rerun = (job / "rerun.txt").read_text()
    assert rerun == f"{corpus / 'a.txt'}\n{corpus / 'c.txt'}\n"
    assert f"their paths are in {job / 'rerun.txt'}" in result.stderr


def test_collect_refuses_a_manifest_of_another_version(tmp_path: Path, corpus: Path) -> None:
    job = tmp_path / "job"
    prepare(job, corpus)
    answer_offline(job)
    manifest = json.loads((job / batch.MANIFEST).read_text())
    manifest["extractor_version"] = "0.0.1-other"
    (job / batch.MANIFEST).write_text(json.dumps(manifest))
    result = invoke("batch", "collect", str(job / batch.RESULTS))
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {job / batch.MANIFEST}: prepared by extractor 0.0.1")
    assert result.stdout == ""


FILE_OBJECT = {"id": "file-in", "object": "file", "created_at": 0, "filename": batch.REQUESTS}
FILE_OBJECT |= {"purpose": "batch", "status": "processed"}


class FakeBatchAPI:
    """The OpenAI Files and Batches endpoints, faked on 127.0.0.1 with hand-built objects."""

    def __init__(self) -> None:
        self.uploads: list[bytes] = []
        self.created: list[dict[str, Any]] = []
        self.keys: list[str | None] = []
        self.batch: dict[str, Any] = {}
        self.files: dict[str, bytes] = {}
        # Status codes to fail the next GETs with (Retry-After: 0), hand-built server errors.
        self.failures: list[int] = []
        self.gets = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["content-length"]))
                outer.keys.append(self.headers.get("authorization"))
                if self.path == "/v1/files":
                    boundary = self.headers["content-type"].split("boundary=")[1].strip('"')
                    for part in body.split(b"--" + boundary.encode()):
                        head, _, data = part.partition(b"\r\n\r\n")
                        if b'name="file"' in head:
                            outer.uploads.append(data.removesuffix(b"\r\n"))
                    self.reply(FILE_OBJECT | {"bytes": len(outer.uploads[-1])})
                elif self.path == "/v1/batches":
                    outer.created.append(json.loads(body))
                    outer.batch = {"id": "batch_1", "object": "batch", "created_at": 0}
                    outer.batch.update(status="validating", **json.loads(body))
                    self.reply(outer.batch)
                else:
                    self.reply({"error": {"message": "no such path"}}, 404)

            def do_GET(self) -> None:
                outer.keys.append(self.headers.get("authorization"))
                outer.gets += 1
                if outer.failures:
                    self.reply({"error": {"message": "handbuilt"}}, outer.failures.pop(0))
                    return
                wanted = re.fullmatch(r"/v1/files/([\w-]+)/content", self.path)
                if self.path == "/v1/batches/batch_1" and outer.batch:
                    self.reply(outer.batch)
                elif wanted and wanted[1] in outer.files:
                    self.reply(outer.files[wanted[1]])
                else:
                    self.reply({"error": {"message": "no such object"}}, 404)

            def reply(self, data: dict[str, Any] | bytes, code: int = 200) -> None:
                payload = data if isinstance(data, bytes) else json.dumps(data).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                if code >= 500 or code == 429:
                    self.send_header("retry-after", "0")
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def serve(self) -> Iterator[FakeBatchAPI]:
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBatchAPI]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-handbuilt")
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    yield from FakeBatchAPI().serve()


def test_submit_status_fetch_through_the_batch_api(
    tmp_path: Path, corpus: Path, api: FakeBatchAPI
) -> None:
    job = tmp_path / "job"
    prepare(job, corpus)
    url = ("--base-url", api.base_url)
    result = invoke("batch", "submit", str(job), *url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "submitted batch batch_1 (file file-in)\n"
    assert api.uploads == [(job / batch.REQUESTS).read_bytes()]
    [created] = api.created
    assert (created["endpoint"], created["completion_window"]) == ("/v1/chat/completions", "24h")
    assert created["input_file_id"] == "file-in"
    state = json.loads((job / batch.STATE).read_text())
    assert (state["batch_id"], state["input_file_id"]) == ("batch_1", "file-in")
    again = invoke("batch", "submit", str(job), *url)
    assert again.exit_code == 2
    assert "submitted already as batch batch_1" in again.stderr
    assert len(api.uploads) == 1
    api.batch.update(status="in_progress", request_counts={"completed": 4, "failed": 1, "total": 9})
    result = invoke("batch", "status", str(job), *url)
    assert (result.exit_code, result.stdout) == (
        0,
        "batch batch_1: in_progress, 4/9 requests done, 1 failed\n",
    )
    result = invoke("batch", "fetch", str(job), *url)
    assert result.exit_code == 1
    assert "in_progress" in result.stderr
    assert "not finished yet" in result.stderr
    assert not (job / batch.RESULTS).exists()
    answer_offline(job)
    api.files = {
        "file-out": (job / batch.RESULTS).read_bytes() + '{"note": "é"}\n'.encode(),
        "file-err": b'{"custom_id": "a000000-r0000", "error": {"message": "handbuilt"}}\n',
    }
    (job / batch.RESULTS).unlink()
    api.batch.update(status="completed", output_file_id="file-out", error_file_id="file-err")
    api.batch["request_counts"]["completed"] = 8
    result = invoke("batch", "fetch", str(job), *url)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("batch batch_1: completed, 8/9 requests done, 1 failed -> ")
    assert (job / batch.RESULTS).read_bytes() == api.files["file-out"]
    assert (job / batch.ERRORS).read_bytes() == api.files["file-err"]
    assert set(api.keys) == {"Bearer sk-handbuilt"}


def test_the_batch_api_is_asked_under_the_one_retry_policy(
    tmp_path: Path, corpus: Path, api: FakeBatchAPI
) -> None:
    job = tmp_path / "job"
    prepare(job, corpus)
    url = ("--base-url", api.base_url)
    assert invoke("batch", "submit", str(job), *url).exit_code == 0
    api.batch.update(status="in_progress", request_counts={"completed": 1, "failed": 0, "total": 9})
    # A 503 and a 429 are retried (two transport retries by default), as every request is.
    api.failures, api.gets = [503, 429], 0
    result = invoke("batch", "status", str(job), *url)
    assert (result.exit_code, api.gets) == (0, 3)
    assert result.stdout == "batch batch_1: in_progress, 1/9 requests done, 0 failed\n"
    # A server that keeps failing costs 1 + 2 requests, then one line and exit 1.
    api.failures, api.gets = [500] * 5, 0
    result = invoke("batch", "status", str(job), *url)
    assert (result.exit_code, api.gets) == (1, 3)
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    # With the retries set to none, one request.
    api.failures, api.gets = [500], 0
    result = invoke("batch", "status", str(job), *url, env={"EXTRACTOR_TRANSPORT_RETRIES": "0"})
    assert (result.exit_code, api.gets) == (1, 1)


def test_prepare_for_another_model_asks_for_json_schema(tmp_path: Path, corpus: Path) -> None:
    job = tmp_path / "job"
    result = CliRunner().invoke(
        cli, ["batch", "prepare", str(corpus), "-d", str(job), "--model", "gpt-4o-mini"]
    )
    assert result.exit_code == 0, result.stderr
    manifest = json.loads((job / "manifest.json").read_text())
    assert manifest["settings"]["mode"] == "json_schema"
    bodies = [
        json.loads(line)["body"] for line in (job / "requests.jsonl").read_text().splitlines()
    ]
    assert {b["response_format"]["type"] for b in bodies} == {"json_schema"}
    assert {b["model"] for b in bodies} == {"gpt-4o-mini"}
