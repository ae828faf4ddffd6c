"""Batch runs through the CLI over real HTTP: resumption, the cache, concurrency, budgets, the
shared retry budget and the run summary. The answers are hand-built."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner
from handbuilt import LoopbackServer, Script, draft_json, ok, status

from extractor.cli import cli


def answer_for(text: str) -> str:
    """A hand-built answer that grounds in any article written by ``articles()``."""
    return draft_json(
        quote=text.split(".")[0],
        summary="A guarantee is asked for.",
        guarantors=[{"name": "the US", "quote": "the US"}],
    )


class Server(Script):
    """Answers every request with a grounded hand-built draft, after ``delay`` seconds, and
    keeps the most requests it was ever serving at once."""

    def __init__(self, delay: float = 0.0, tokens: tuple[int, int] = (100, 20)) -> None:
        super().__init__([])
        self.delay, self.tokens = delay, tokens
        self.busy = self.most_busy = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        with self._lock:
            self.requests.append(request)
            self.busy += 1
            self.most_busy = max(self.most_busy, self.busy)
        try:
            time.sleep(self.delay)
            text = json.loads(request.content)["messages"][-1]["content"]
            article = text[text.index("Article ") :].split('"""')[0] if "Article " in text else ""
            prompt, completion = self.tokens
            return ok(
                answer_for(article or text),
                prompt_tokens=prompt,
                completion_tokens=completion,
            )
        finally:
            with self._lock:
                self.busy -= 1


def articles(folder: Path, n: int) -> list[Path]:
    folder.mkdir(exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{i:02d}.txt"
        path.write_text(f"Article {i} says Ukraine asked the US to guarantee its security.\n")
        paths.append(path)
    return paths


def extract(server_url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["extract", *args, "--base-url", server_url, "--strategy", "single"],
        catch_exceptions=False,
    )
    return result.exit_code, result.stderr


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_rerun_resumes_from_the_partial_file_and_drops_a_line_cut_short(tmp_path: Path) -> None:
    paths = articles(tmp_path / "in", 4)
    out = tmp_path / "out.jsonl"
    server = Server()
    with LoopbackServer(server) as loopback:
        # A first run of two of the articles stands in for a run killed after two records.
        code, _ = extract(loopback.base_url, *map(str, paths[:2]), "-o", str(out), "-q")
        assert code == 0
        partial = tmp_path / "out.jsonl.partial"
        out.rename(partial)
        with partial.open("a") as handle:
            handle.write('{"schema_version": "1", "article": {"id": "sha2')  # cut short
        server.requests.clear()
        code, err = extract(loopback.base_url, str(tmp_path / "in"), "-o", str(out), "--no-cache")
    assert code == 0, err
    assert len(server.requests) == 2  # only the two articles without a record
    records = lines(out)
    assert [r["article"]["source"] for r in records] == [str(p) for p in paths]
    assert not partial.exists()
    assert "2 extracted, 0 from the cache, 2 already done" in err


def test_a_rerun_of_a_finished_command_asks_nothing(tmp_path: Path) -> None:
    articles(tmp_path / "in", 3)
    out = tmp_path / "out.jsonl"
    server = Server()
    with LoopbackServer(server) as loopback:
        extract(loopback.base_url, str(tmp_path / "in"), "-o", str(out), "-q", "--no-cache")
        first = out.read_text()
        code, err = extract(loopback.base_url, str(tmp_path / "in"), "-o", str(out), "--no-cache")
    assert code == 0
    assert len(server.requests) == 3
    assert out.read_text() == first
    assert "0 tokens spent" in err


def test_the_cache_answers_a_second_output_and_no_cache_bypasses_it(tmp_path: Path) -> None:
    articles(tmp_path / "in", 3)
    server = Server()
    with LoopbackServer(server) as loopback:
        extract(loopback.base_url, str(tmp_path / "in"), "-o", str(tmp_path / "a.jsonl"), "-q")
        code, err = extract(
            loopback.base_url, str(tmp_path / "in"), "-o", str(tmp_path / "b.jsonl")
        )
        assert code == 0
        assert len(server.requests) == 3
        assert "0 extracted, 3 from the cache" in err
        assert lines(tmp_path / "a.jsonl") == lines(tmp_path / "b.jsonl")
        extract(
            loopback.base_url, str(tmp_path / "in"), "-o", str(tmp_path / "c.jsonl"), "--no-cache"
        )
        assert len(server.requests) == 6
        # Another model is another key.
        extract(
            loopback.base_url, str(tmp_path / "in"), "-o", str(tmp_path / "d.jsonl"), "--model", "x"
        )
        assert len(server.requests) == 9


def test_a_cached_record_takes_the_source_it_is_read_from(tmp_path: Path) -> None:
    [path] = articles(tmp_path / "in", 1)
    copy = tmp_path / "copy.txt"
    copy.write_text(path.read_text())
    server = Server()
    with LoopbackServer(server) as loopback:
        extract(loopback.base_url, str(path), "-o", str(tmp_path / "a.jsonl"), "-q")
        extract(loopback.base_url, str(copy), "-o", str(tmp_path / "b.jsonl"), "-q")
    assert len(server.requests) == 1
    assert lines(tmp_path / "b.jsonl")[0]["article"]["source"] == str(copy)


def test_concurrency_runs_that_many_requests_at_once_and_keeps_input_order(
    tmp_path: Path,
) -> None:
    paths = articles(tmp_path / "in", 8)
    server = Server(delay=0.3)
    with LoopbackServer(server) as loopback:
        code, _ = extract(
            loopback.base_url, str(tmp_path / "in"), "-o", str(tmp_path / "o.jsonl"), "-j", "4"
        )
    assert code == 0
    assert server.most_busy == 4
    assert [r["article"]["source"] for r in lines(tmp_path / "o.jsonl")] == list(map(str, paths))


def test_standard_output_gets_records_in_input_order_under_concurrency(tmp_path: Path) -> None:
    paths = articles(tmp_path / "in", 5)
    server = Server(delay=0.1)
    with LoopbackServer(server) as loopback:
        result = CliRunner().invoke(
            cli,
            [
                *("extract", str(tmp_path / "in"), "--base-url", loopback.base_url),
                *("--strategy", "single", "-j", "3", "-q"),
            ],
        )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["article"]["source"] for r in records] == list(map(str, paths))


def test_the_run_budget_stops_the_run_resumably(tmp_path: Path) -> None:
    articles(tmp_path / "in", 5)
    out = tmp_path / "out.jsonl"
    server = Server()  # 120 tokens an answer
    with LoopbackServer(server) as loopback:
        code, err = extract(
            loopback.base_url, str(tmp_path / "in"), "-o", str(out), "--budget", "250"
        )
        # 0 and 120 and 240 spent are under 250: three requests; the fourth is not sent.
        assert code == 1
        assert len(server.requests) == 3
        assert not out.exists()
        assert len(lines(tmp_path / "out.jsonl.partial")) == 3
        assert "the run's budget of 250 tokens is spent (360 tokens)" in err
        assert "2 articles have no record yet" in err
        code, err = extract(loopback.base_url, str(tmp_path / "in"), "-o", str(out))
    assert code == 0, err
    assert len(server.requests) == 5
    assert len(lines(out)) == 5


def test_a_budget_in_dollars_uses_the_price_table(tmp_path: Path) -> None:
    articles(tmp_path / "in", 3)
    prices = tmp_path / "prices.json"
    # 100 prompt tokens at $1,000/M and 20 completion tokens at $5,000/M: $0.20 an answer.
    prices.write_text(json.dumps({"hand": {"prompt": 1000, "completion": 5000}}))
    summary = tmp_path / "summary.json"
    server = Server()
    with LoopbackServer(server) as loopback:
        code, err = extract(
            loopback.base_url,
            *(str(tmp_path / "in"), "-o", str(tmp_path / "o.jsonl"), "--model", "hand-1"),
            *("--prices", str(prices), "--budget", "$0.30", "--summary", str(summary)),
        )
    assert code == 1
    assert len(server.requests) == 2
    assert "$0.4000" in err
    data = json.loads(summary.read_text())
    assert data["usd"] == pytest.approx(0.4)
    assert data["not_started"] == 1
    assert [a["status"] for a in data["per_article"]] == ["extracted", "extracted", "not started"]


def test_a_dollar_budget_without_a_price_is_a_usage_error(tmp_path: Path) -> None:
    [path] = articles(tmp_path / "in", 1)
    code, err = extract("http://127.0.0.1:9/v1", str(path), "--budget", "$1")
    assert code == 2
    assert "needs the model's price" in err


def test_max_tokens_per_article_records_the_stop_and_a_rerun_finishes(tmp_path: Path) -> None:
    [path] = articles(tmp_path / "in", 1)
    out = tmp_path / "out.jsonl"
    unfound = draft_json(quote="words that are not in the article", summary="x.")
    script = Script([ok(unfound)])  # invalid: would be re-asked, but 120 tokens are spent
    with LoopbackServer(script) as loopback:
        code, _ = extract(
            loopback.base_url, str(path), "-o", str(out), "--max-tokens-per-article", "100", "-q"
        )
    assert code == 1
    assert len(script.requests) == 1
    [record] = lines(out)
    assert record["error"]["type"] == "BudgetError"
    assert "--max-tokens-per-article 100" in record["error"]["message"]
    server = Server()
    with LoopbackServer(server) as loopback:
        code, _ = extract(loopback.base_url, str(path), "-o", str(out), "-q")
    assert code == 0
    assert len(server.requests) == 1  # an error record is not finished work
    assert lines(out)[0]["error"] is None


@pytest.mark.parametrize(
    ("budget", "answers", "requests", "error"),
    [
        # Two transport retries allowed per request, but the article may make only one.
        ("1", [status(500), status(500)], 2, "BackendError"),
        ("2", [status(500), status(500), ok(draft_json())], 3, None),
        # The retry spent the budget: the invalid answer is not re-asked but salvaged.
        ("1", [status(500), ok(draft_json(quote="not in it", summary="x."))], 2, None),
    ],
)
def test_retries_and_reasks_share_the_article_budget(
    tmp_path: Path, budget: str, answers: list[Any], requests: int, error: str | None
) -> None:
    [path] = articles(tmp_path / "in", 1)
    out = tmp_path / "out.jsonl"
    script = Script(list(answers))
    with LoopbackServer(script) as loopback:
        extract(loopback.base_url, str(path), "-o", str(out), "--retry-budget", budget, "-q")
    assert len(script.requests) == requests
    [record] = lines(out)
    assert record["provenance"]["usage"]["requests"] == requests
    assert (record["error"] or {}).get("type") == error
    if budget == "1" and error is None:
        assert "retry budget (1) was spent" in record["dropped"][0]["reason"]


def test_bad_inputs_each_get_their_own_record_and_the_batch_goes_on(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a-empty.txt").write_text("")
    (folder / "b-blank.txt").write_text("  \n\t\n ")
    (folder / "c-binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    (folder / "d-cp1251.txt").write_bytes("Украина просит гарантий".encode("cp1251"))
    (folder / "e-huge.txt").write_bytes(b"Ukraine asked the US. " * 500_000)  # 11 MB
    (folder / "f-page.html").write_text(
        "<html><head><title>Page</title><script>var x = 1;</script></head><body>"
        "<p>Article 1 says Ukraine asked the US to guarantee its security.</p></body></html>"
    )
    (folder / "g-notes.pdf").write_bytes(b"%PDF-1.4")
    (folder / "h-ok.md").write_text("Article 2 says Ukraine asked the US to guarantee it.\n")
    out = tmp_path / "out.jsonl"
    server = Server()
    with LoopbackServer(server) as loopback:
        code, err = extract(loopback.base_url, str(folder), "-o", str(out))
    assert code == 1
    assert "skipped 1 files that are not articles" in err and "g-notes.pdf" in err
    records = {Path(r["article"]["source"]).name: r for r in lines(out)}
    errors = {name: (r["error"] or {}).get("message", "") for name, r in records.items()}
    assert "holds no text" in errors["a-empty.txt"]
    assert "holds no text" in errors["b-blank.txt"]
    assert "looks binary" in errors["c-binary.txt"]
    assert "not valid UTF-8" in errors["d-cp1251.txt"] and "iconv" in errors["d-cp1251.txt"]
    assert "more than the 2,000,000" in errors["e-huge.txt"]
    assert records["f-page.html"]["error"] is None
    assert "var x" not in records["f-page.html"]["article"]["text"]
    assert records["h-ok.md"]["error"] is None
    assert len(server.requests) == 2  # only the two readable articles were sent


def test_a_partial_file_of_another_command_is_not_taken_over(tmp_path: Path) -> None:
    first = articles(tmp_path / "a", 2)
    other = tmp_path / "b.txt"
    other.write_text("Article 9 says Ukraine asked the US to guarantee its security.\n")
    out = tmp_path / "out.jsonl"
    partial = tmp_path / "out.jsonl.partial"
    server = Server()
    with LoopbackServer(server) as loopback:
        extract(loopback.base_url, *map(str, first), "-o", str(out), "-q")
        out.rename(partial)  # as if that run had been killed
        before = partial.read_bytes()
        code, err = extract(loopback.base_url, str(other), "-o", str(out), "--no-cache")
        assert code == 2
        assert f"{partial} holds 2 finished records this command would not keep" in err
        assert "move the file away" in err
        assert partial.read_bytes() == before
        # The same inputs with another model would drop them too.
        code, _ = extract(loopback.base_url, *map(str, first), "-o", str(out), "--model", "m2")
        assert code == 2
        # The command that wrote them finishes.
        code, _ = extract(loopback.base_url, *map(str, first), "-o", str(out), "--no-cache")
    assert code == 0
    assert len(server.requests) == 2


def test_the_summary_says_when_answers_were_cut_off_at_max_tokens(tmp_path: Path) -> None:
    """Hand-built answers, two of them ended at max_tokens: one asked again and answered whole,
    one cut off until the article's retry budget was spent (and kept as it was)."""
    first, second = articles(tmp_path / "in", 2)
    cut = answer_for(first.read_text())[:-5]

    summary = tmp_path / "summary.json"
    # Article 0: cut at 4096, whole at 8192. Article 1: cut at 4096 and at 8192 (budget 1).
    script = Script(
        [
            ok(cut, finish_reason="length"),
            ok(answer_for(first.read_text())),
            ok(answer_for(second.read_text())[:-5], finish_reason="length"),
            ok(answer_for(second.read_text())[:-5], finish_reason="length"),
        ]
    )
    with LoopbackServer(script) as loopback:
        code, err = extract(
            loopback.base_url,
            *(str(first), str(second), "-o", str(tmp_path / "o.jsonl"), "-j", "1"),
            *("--retry-budget", "1", "--summary", str(summary)),
        )
    assert code == 0, err
    assert [body["max_tokens"] for body in script.bodies()] == [4096, 8192, 4096, 8192]
    assert (
        "3 answers were cut off at max_tokens: 2 asked again with a larger budget, 1 kept cut "
        "(their records say so; raise EXTRACTOR_MAX_TOKENS or --retry-budget and re-run them "
        "with --no-cache)"
    ) in err
    data = json.loads(summary.read_text())
    assert (data["cut_off"], data["kept_cut"]) == (3, 1)
    assert [a["cut_off"] for a in data["per_article"]] == [1, 2]
    records = lines(tmp_path / "o.jsonl")
    assert [r["provenance"]["usage"]["cut_off"] for r in records] == [1, 2]
    assert records[0]["dropped"] == []
    assert records[1]["dropped"][0]["reason"] == "the answer was cut off at max_tokens=8192"


def test_the_summary_says_nothing_of_cut_answers_when_none_was_cut(tmp_path: Path) -> None:
    [path] = articles(tmp_path / "in", 1)
    with LoopbackServer(Server()) as loopback:
        code, err = extract(loopback.base_url, str(path), "-o", str(tmp_path / "o.jsonl"))
    assert code == 0
    assert "cut off" not in err
