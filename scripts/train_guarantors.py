"""Train the guarantor model (extractor/core/guarantor_model.py) on annotated articles and report
its leave-one-article-out figures beside the rules'.

    python scripts/train_guarantors.py --gold tests/gold --gold tests/gold/corpus \
        --gold ../shared/gold/corpus2 --articles seeds --articles ../shared/corpus/news \
        --articles ../shared/corpus/news2 [--write]

The articles tests/gold/HOLDOUT lists are left out (they are scored, never trained on). A
candidate is labelled a guarantor when the gold requires it, not one when the gold neither
requires nor allows it; an optional guarantor is left out of training. Logistic regression
with an L2 penalty, fitted by Newton's method in numpy (a few hundred rows and twenty features:
a library's solver would add a dependency for nothing). ``--write`` stores the weights fitted
on all the articles, with the threshold, in extractor/core/data/guarantor_weights.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from extractor.core import syntax
from extractor.core.guarantor_model import FEATURES, WEIGHTS, candidate_features, score
from extractor.core.rules import rules_findings
from extractor.strategies import GUARANTEE_SENTENCE_CARRIERS, merge

ROOT = Path(__file__).resolve().parent.parent
PENALTY = 3.0


def fit(rows: np.ndarray, labels: np.ndarray, penalty: float = PENALTY) -> np.ndarray:
    """Logistic regression weights (bias first, not penalised) by Newton's method."""
    w = np.zeros(rows.shape[1])
    ridge = np.eye(rows.shape[1]) * penalty
    ridge[0, 0] = 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(rows @ w, -30, 30)))
        gradient = rows.T @ (p - labels) + ridge @ w
        hessian = rows.T @ (rows * (p * (1 - p))[:, None]) + ridge + 1e-9 * np.eye(len(w))
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w


def articles(gold_dirs: list[Path], article_dirs: list[Path]) -> list[tuple[str, str, dict]]:
    held = {
        line.strip()
        for line in (ROOT / "tests/gold/HOLDOUT").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    out = []
    for gold_dir in gold_dirs:
        for path in sorted(gold_dir.glob("*.json")):
            gold = json.loads(path.read_text())
            name = gold.get("article", path.stem + ".txt")
            if name in held or "guarantors" not in gold:
                continue
            text = next((d / name for d in article_dirs if (d / name).exists()), None)
            if text is not None:
                out.append((name, text.read_text(encoding="utf-8"), gold))
    return out


def rules_view(text: str) -> tuple[set[str], set[str]]:
    """The rules' guarantors, and the codes they take for no guarantor (the one guaranteed)."""
    proposals, _ = merge(rules_findings(text), GUARANTEE_SENTENCE_CARRIERS)
    chosen = {g.actor.code for p in proposals for g in p.guarantors if g.actor.code}
    excluded = {p.beneficiary.code for p in proposals if p.beneficiary and p.beneficiary.code}
    return chosen, excluded


def tally(predicted: set[str], required: set[str], allowed: set[str], t: list[int]) -> None:
    t[0] += len(predicted & allowed)
    t[1] += len(predicted)
    t[2] += len(required & predicted)
    t[3] += len(required)


def f1(t: list[int]) -> str:
    p = t[0] / t[1] if t[1] else 0.0
    r = t[2] / t[3] if t[3] else 0.0
    return f"{2 * p * r / (p + r) if p + r else 0:.3f} ({p:.2f} / {r:.2f})"


Row = tuple[str, list[float]]
Article = tuple[str, set[str], set[str], list[Row], set[str], set[str]]


def fold_of(name: str, by_set: bool) -> str:
    """The fold an article is left out in: itself, or its set (the seeds, news, news2)."""
    if not by_set:
        return name
    return "news2" if name.startswith("h2-") else "news" if name.startswith("h") else "seeds"


def training(
    data: list[Article], skip: str | None, by_set: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and labels of every article outside fold ``skip``: required 1, neither allowed 0."""
    x, y = [], []
    for name, required, allowed, rows, _, _ in data:
        if fold_of(name, by_set) == skip:
            continue
        for code, row in rows:
            if code in required or code not in allowed:
                x.append(row)
                y.append(1.0 if code in required else 0.0)
    return np.array(x), np.array(y)


def cross_validate(
    data: list[Article],
    names: tuple[str, ...],
    threshold: float,
    penalty: float,
    verbose: bool,
    by_set: bool = False,
) -> tuple[list[int], list[int]]:
    """Leave one article (or one set) out: the rules' tally and the model's (precision and
    recall counts)."""
    rules_t, model_t = [0, 0, 0, 0], [0, 0, 0, 0]
    fitted: dict[str, dict[str, float]] = {}
    for name, required, allowed, rows, chosen, excluded in data:
        fold = fold_of(name, by_set)
        if fold not in fitted:
            w = fit(*training(data, fold, by_set), penalty=penalty)
            fitted[fold] = dict(zip(names, w.tolist(), strict=True))
        model = fitted[fold]
        predicted = {
            code
            for code, row in rows
            if score(dict(zip(names, row, strict=True)), model) >= threshold
        } - excluded
        tally(chosen, required, allowed, rules_t)
        tally(predicted, required, allowed, model_t)
        if verbose and predicted != chosen:
            print(
                f"  {name}: +{sorted(predicted - chosen)} -{sorted(chosen - predicted)} "
                f"(missed {sorted(required - predicted)}, wrong {sorted(predicted - allowed)})"
            )
    return rules_t, model_t


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--gold", type=Path, action="append", required=True)
    parser.add_argument("--articles", type=Path, action="append", required=True)
    parser.add_argument("--threshold", type=float, action="append")
    parser.add_argument("--penalty", type=float, default=PENALTY)
    parser.add_argument("--drop", default="", help="features left out, comma-separated")
    parser.add_argument("--verbose", action="store_true", help="each article the model changes")
    parser.add_argument(
        "--by-set",
        action="store_true",
        help="leave one set out (seeds, news, news2), not one article",
    )
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    thresholds = args.threshold or [0.3, 0.4, 0.5]
    dropped = set(filter(None, args.drop.split(",")))
    nlp, ru = syntax.parser(), syntax.russian_parser()
    if nlp is None or ru is None:
        raise SystemExit(syntax.INSTALL_HINT if nlp is None else syntax.RUSSIAN_HINT)
    english_only = "english-only" in dropped

    stored: dict[str, dict[str, float]] = {}
    sources = articles(args.gold, args.articles)
    for mode, names, reader, russian in (
        ("plain", FEATURES, None, None),
        ("syntax", FEATURES + syntax.SYNTAX_FEATURES, nlp, None if english_only else ru),
    ):
        data: list[Article] = []
        for name, text, gold in sources:
            required = set(gold["guarantors"]["required"])
            allowed = required | set(gold["guarantors"]["optional"])
            chosen, excluded = rules_view(text)
            rows = [
                (code, [0.0 if f in dropped else c.features.get(f, 0.0) for f in names])
                for code, c in candidate_features(text, reader, russian).items()
            ]
            data.append((name, required, allowed, rows, chosen, excluded))
        print(f"{mode}: {len(data)} articles, {sum(len(d[3]) for d in data)} candidates")
        best: tuple[float, float] | None = None
        for threshold in thresholds:
            rules_t, model_t = cross_validate(
                data,
                names,
                threshold,
                args.penalty,
                args.verbose and len(thresholds) == 1,
                args.by_set,
            )
            print(f"  rules (in sample)                  guarantors {f1(rules_t)}")
            left = "one set" if args.by_set else "one article"
            print(f"  model (leave {left} out, >= {threshold:.2f}) guarantors {f1(model_t)}")
            p = model_t[0] / model_t[1] if model_t[1] else 0.0
            r = model_t[2] / model_t[3] if model_t[3] else 0.0
            score_ = 2 * p * r / (p + r) if p + r else 0.0
            if best is None or score_ > best[0]:
                best = (score_, threshold)
        assert best is not None
        w = fit(*training(data, None), penalty=args.penalty)
        stored[mode] = {n: round(v, 4) for n, v in zip(names, w.tolist(), strict=True)}
        stored[mode]["threshold"] = best[1]
        print(
            f"  threshold {best[1]}: " + ", ".join(f"{n} {v:+.2f}" for n, v in stored[mode].items())
        )
    if args.write:
        WEIGHTS.write_text(json.dumps(stored, indent=2) + "\n", encoding="utf-8")
        print(f"-> {WEIGHTS}")


if __name__ == "__main__":
    main()
