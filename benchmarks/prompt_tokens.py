"""Prompt tokens a llama.cpp server evaluates per article, per strategy, with its prefix cache.

The embedded server (llama-cpp-python, one slot) keeps the previous request's tokens and
evaluates only what follows the longest prefix a new prompt shares with them: the "prefix-match
hit" of its log. This script renders every request a strategy plans for each article exactly as
it would be sent (``bodies.request_body``: the same bodies as the online path), applies the
model's own chat template, tokenises with the model's tokenizer, and counts, for requests sent
one after another, the tokens sent and the tokens the server would evaluate. No model is run
(the tokenizer alone is loaded), so it takes seconds; the server log of a real run gives the
same figure.

    .venv/bin/python benchmarks/prompt_tokens.py [--strategies guided,chunked] [PATH ...]

Needs the ``local`` extra (llama-cpp-python and the bundled GGUF).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter

from extractor import config
from extractor.io import articles
from extractor.model import embedded
from extractor.model.bodies import request_body
from extractor.runs.method import resolve_method

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "news"


def shared_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--strategies", default="guided,chunked,decomposed,single")
    args = parser.parse_args()
    paths = args.paths or [str(p) for p in sorted((ROOT / "seeds").glob("*.txt"))] + [
        str(p) for p in sorted(CORPUS.glob("h*.txt"))
    ]
    items = [a for a in articles.read(paths) if isinstance(a, articles.Article)]
    model = Llama(model_path=str(embedded.find_gguf()), vocab_only=True, verbose=False)
    template = str(model.metadata["tokenizer.chat_template"])
    formatter = Jinja2ChatFormatter(
        template,
        eos_token=model._model.token_get_text(model.token_eos()),
        bos_token=model._model.token_get_text(model.token_bos()),
    )
    print(f"{len(items)} articles; prompt tokens per article, sent and evaluated (prefix cache)")
    print(f"{'strategy':<11} {'requests':>9} {'sent':>9} {'evaluated':>10} {'share':>6}")
    for name in args.strategies.split(","):
        settings = config.resolve(strategy=name, env={})
        method = resolve_method(settings)
        requests = sent = evaluated = 0
        previous: list[int] = []
        for item in items:
            for ask in method.strategy.plan(item.text, method.prompt):
                body = request_body(ask, settings)
                prompt = formatter(messages=body["messages"]).prompt
                tokens = model.tokenize(prompt.encode(), add_bos=False, special=True)
                requests += 1
                sent += len(tokens)
                evaluated += len(tokens) - shared_prefix(previous, tokens)
                previous = tokens
        n = len(items)
        share = evaluated / sent if sent else 0.0
        print(
            f"{name:<11} {requests / n:>9.1f} {sent / n:>9.0f} {evaluated / n:>10.0f} {share:>6.2f}"
        )


if __name__ == "__main__":
    main()
