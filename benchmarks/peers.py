"""Peers side by side: this project's default against plain instructor and LangExtract on the same
model, the same articles, in one run, with the rules floor beside them.

Four ways to extract the annotated articles (the five seeds and, when present, the twelve of
``../shared/corpus/news``), each scored with the project's scorer (``extractor.eval.evaluate``):

``default``
    ``extractor`` with its default strategy (``auto``: ``guided`` on the embedded model).
``rules``
    ``extractor --strategy rules``: no model.
``instructor``
    Plain instructor: one ``create(response_model=ArticleDraft)`` per article, the draft schema
    of this project, JSON mode, no grounding and no re-ask. Names become codes with the
    project's own normalisation so that the scorer can read them; quotes are not checked.
``langextract``
    LangExtract 1.7.1: ``lx.extract`` with its OpenAI provider pointed at the same server,
    ``max_output_tokens`` set, and two examples written for this benchmark (not taken from the
    annotated articles). Each extraction class maps to a field.

Per method: F1 per field, has_proposal accuracy, grounded share (this project: spans matching
their quote; instructor: quotes found in the article; LangExtract: extractions it aligned to
the text), requests, tokens and seconds. Prints figures only; asserts nothing.

    .venv/bin/pip install -e '.[peers]'
    .venv/bin/python benchmarks/peers.py [--base-url URL] [--seeds-only] [--only NAME,...]

With no ``--base-url`` the embedded server is started (not timed). Use ``-j 1``-like conditions:
every method sends one request at a time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor import config
from extractor.core.grounding import locate
from extractor.core.normalize import actor_code, canonical_territory, parse_hours
from extractor.eval import evaluate
from extractor.io import articles
from extractor.model import embedded
from extractor.model.sync import Engine
from extractor.runs import pipeline
from extractor.runs.method import resolve_method
from extractor.schemas import ArticleDraft

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "news"
GOLD = (ROOT / "tests" / "gold", ROOT / "tests" / "gold" / "corpus")
MAX_OUTPUT_TOKENS = 512  # for instructor and LangExtract alike


@dataclass
class Run:
    """What one method produced and spent."""

    records: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    tokens: int = 0
    seconds: float = 0.0
    quotes: int = 0
    grounded: int = 0


def _actor(name: str | None) -> dict[str, Any] | None:
    if not name or not name.strip():
        return None
    return {"name": name, "code": actor_code(name)}


def _record(item: articles.Article, proposals: list[dict[str, Any]]) -> dict[str, Any]:
    """A record as the scorer reads it (no evidence: these methods give no located spans)."""
    return {
        "article": {"source": item.source, "text": item.text},
        "proposals": proposals,
        "provenance": {},
        "error": None,
    }


def run_extractor(items: list[articles.Article], settings: config.Settings) -> Run:
    """This project, one article at a time."""
    out = Run()
    method = resolve_method(settings)
    engine = Engine(settings) if method.needs_model else None
    for item in items:
        began = time.monotonic()
        record = pipeline.extract(item, engine, method=method)
        out.seconds += time.monotonic() - began
        data = json.loads(record.model_dump_json())
        out.records.append(data)
        out.requests += record.provenance.usage.requests
        out.tokens += record.provenance.usage.total_tokens
        for evidence in evaluate.iter_evidence(data["proposals"]):
            out.quotes += 1
            out.grounded += evaluate.span_matches(evidence, item.text)
    if engine is not None:
        engine.close()
    return out


def run_instructor(items: list[articles.Article], base_url: str, model: str) -> Run:
    """Plain instructor: one create() per article with the draft schema, nothing grounded."""
    import instructor
    import openai

    from extractor.core.prompting import render

    client = instructor.from_openai(
        openai.OpenAI(base_url=base_url, api_key="not-needed", max_retries=0),
        mode=instructor.Mode.JSON,
    )
    out = Run()
    for item in items:
        began = time.monotonic()
        proposals: list[dict[str, Any]] = []
        try:
            draft, completion = client.chat.completions.create_with_completion(
                model=model,
                response_model=ArticleDraft,
                messages=render("extract-v1", item.text),  # type: ignore[arg-type]
                max_tokens=MAX_OUTPUT_TOKENS,
                temperature=0.0,
                max_retries=0,
            )
            usage = completion.usage
            out.tokens += usage.total_tokens if usage else 0
            for p in draft.proposals:
                quotes = [p.quote, *(g.quote for g in p.guarantors)]
                quotes += [t.quote for t in p.excluded_territories]
                quotes += [c.quote for c in p.conditions]
                out.quotes += len(quotes)
                out.grounded += sum(locate(q, item.text) is not None for q in quotes if q)
                proposals.append(
                    {
                        "proposer": _actor(p.proposer),
                        "guarantors": [{"actor": _actor(g.name)} for g in p.guarantors],
                        "response_times": [
                            {"hours": parse_hours(r.text)} for r in p.response_times
                        ],
                        "excluded_territories": [
                            {"name": canonical_territory(t.name)} for t in p.excluded_territories
                        ],
                        "conditions": [{"text": c.text} for c in p.conditions],
                    }
                )
        except Exception as exc:  # a failed article predicts nothing, as for the others
            print(f"instructor: {item.source}: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
        out.requests += 1
        out.seconds += time.monotonic() - began
        out.records.append(_record(item, proposals))
    return out


PROMPT = (
    "Extract the security-guarantee proposal the text reports: the proposer, each state or "
    "organisation that would guarantee, the response time, each territory left out, and each "
    "condition. Use exact text from the article; do not paraphrase. Extract nothing if the "
    "text reports no such proposal."
)


def _examples() -> list[Any]:
    """Two examples written for this benchmark, about invented events (not annotated text). An
    example with no extraction is refused by LangExtract's prompt check."""
    import langextract as lx

    def example(text: str, items: list[tuple[str, str]]) -> Any:
        return lx.data.ExampleData(
            text=text,
            extractions=[
                lx.data.Extraction(extraction_class=c, extraction_text=t) for c, t in items
            ],
        )

    return [
        example(
            "Moldova asked Romania and Poland to guarantee its security. The guarantors would "
            "have to act within 48 hours of an attack, provided Moldova stays neutral. "
            "Transnistria would not be covered.",
            [
                ("proposer", "Moldova"),
                ("guarantor", "Romania"),
                ("guarantor", "Poland"),
                ("response_time", "48 hours"),
                ("condition", "provided Moldova stays neutral"),
                ("excluded_territory", "Transnistria"),
            ],
        ),
        example(
            "Georgia's foreign minister said on Monday that the United States and the EU should "
            "give Tbilisi binding guarantees if it gives up its bid to join NATO.",
            [
                ("proposer", "Georgia"),
                ("guarantor", "the United States"),
                ("guarantor", "the EU"),
                ("condition", "if it gives up its bid to join NATO"),
            ],
        ),
    ]


def run_langextract(items: list[articles.Article], base_url: str, model: str) -> Run:
    """LangExtract's lx.extract with its OpenAI provider on the same server."""
    import langextract as lx
    from langextract.providers.openai import OpenAILanguageModel

    out = Run()
    # max_output_tokens goes to the model itself: lx.extract passes language_model_params only
    # to a model it builds, and without the cap one chunk can generate for minutes.
    language_model = OpenAILanguageModel(
        model_id=model,
        api_key="not-needed",
        base_url=base_url,
        temperature=0.0,
        max_workers=1,
        max_output_tokens=MAX_OUTPUT_TOKENS,
    )
    create = language_model._client.chat.completions.create

    def counted(*args: Any, **kwargs: Any) -> Any:
        out.requests += 1
        response = create(*args, **kwargs)
        out.tokens += response.usage.total_tokens if response.usage else 0
        return response

    language_model._client.chat.completions.create = counted
    fields = {
        "proposer": "proposer",
        "guarantor": "guarantors",
        "response_time": "response_time",
        "excluded_territory": "excluded_territories",
        "condition": "conditions",
    }
    for item in items:
        began = time.monotonic()
        found: dict[str, list[str]] = {name: [] for name in fields.values()}
        try:
            document = lx.extract(
                item.text,
                prompt_description=PROMPT,
                examples=_examples(),
                model=language_model,
                max_char_buffer=1000,
                batch_length=1,
                max_workers=1,
                show_progress=False,
            )
            for extraction in document.extractions or []:
                out.quotes += 1
                out.grounded += extraction.char_interval is not None
                name = fields.get(extraction.extraction_class)
                if name:
                    found[name].append(extraction.extraction_text)
        except Exception as exc:
            print(f"langextract: {item.source}: {type(exc).__name__}: {exc}"[:300], file=sys.stderr)
        out.seconds += time.monotonic() - began
        hours = next((h for t in found["response_time"] if (h := parse_hours(t))), None)
        proposal = {
            "proposer": _actor(found["proposer"][0]) if found["proposer"] else None,
            "guarantors": [{"actor": _actor(name)} for name in found["guarantors"]],
            "response_times": [{"hours": hours}] if hours else [],
            "excluded_territories": [
                {"name": canonical_territory(t)} for t in found["excluded_territories"]
            ],
            "conditions": [{"text": t} for t in found["conditions"]],
        }
        has_any = any(found.values())
        out.records.append(_record(item, [proposal] if has_any else []))
    return out


def report(name: str, run: Run, gold: dict[str, dict[str, Any]], articles_count: int) -> str:
    scored = evaluate.score(run.records, gold)
    cells = [f"{s.f1:.3f}" if s.f1 is not None else "-" for s in scored.fields]
    share = f"{run.grounded / run.quotes:.2f}" if run.quotes else "-"
    accuracy = scored.has_proposal_accuracy
    return "  ".join(
        [
            f"{name:<12}",
            *(f"{c:>9}" for c in cells),
            f"{accuracy:>8.3f}" if accuracy is not None else f"{'-':>8}",
            f"{share:>8}",
            f"{run.requests:>8}",
            f"{run.tokens:>8}",
            f"{run.seconds:>8.1f}",
            f"{run.seconds / max(1, articles_count):>8.1f}",
        ]
    )


@contextlib.contextmanager
def _server(base_url: str | None) -> Iterator[str]:
    if base_url:
        yield base_url
        return
    with embedded.serve() as url:
        yield url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", help="a running embedded server (else one is started)")
    parser.add_argument("--model", default=config.EMBEDDED_MODEL)
    parser.add_argument("--seeds-only", action="store_true", help="the five seeds only")
    parser.add_argument("--only", help="comma-separated methods (default, rules, instructor, "
                        "langextract)")  # fmt: skip
    args = parser.parse_args()
    sources = [str(p) for p in sorted((ROOT / "seeds").glob("*.txt"))]
    if not args.seeds_only and CORPUS.is_dir():
        sources += [str(p) for p in sorted(CORPUS.glob("h*.txt"))]
    items = [a for a in articles.read(sources) if isinstance(a, articles.Article)]
    gold = {name: g for folder in GOLD for name, g in evaluate.load_gold(folder).items()}
    chosen = (args.only or "default,rules,instructor,langextract").split(",")
    with _server(args.base_url) as url:
        settings = config.resolve(base_url=url, model=args.model, mode="llamacpp", env={})
        methods: dict[str, Callable[[], Run]] = {
            "default": lambda: run_extractor(items, settings),
            "rules": lambda: run_extractor(
                items, config.resolve(strategy="rules", model=args.model, env={})
            ),
            "instructor": lambda: run_instructor(items, url, args.model),
            "langextract": lambda: run_langextract(items, url, args.model),
        }
        header = "  ".join(
            [
                f"{'method':<12}",
                *(f"{f[:9]:>9}" for f in evaluate.FIELDS),
                f"{'has_prop':>8}",
                f"{'grounded':>8}",
                f"{'requests':>8}",
                f"{'tokens':>8}",
                f"{'seconds':>8}",
                f"{'s/artcl':>8}",
            ]
        )
        print(f"{len(items)} articles, model {args.model} at {url}; F1 per field")
        print(header)
        for name in chosen:
            print(report(name, methods[name](), gold, len(items)), flush=True)


if __name__ == "__main__":
    main()
