"""Cassettes hold real model traffic for every seed and nothing secret."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = sorted((ROOT / "cassettes").glob("*.yaml"))
SEEDS = sorted((ROOT / "seeds").glob("*.txt"))
# Header names that carry credentials, sessions or request ids.
FORBIDDEN_HEADERS = {
    "authorization",
    "api-key",
    "x-api-key",
    "cookie",
    "set-cookie",
    "x-request-id",
    "openai-organization",
    "openai-project",
}
# Secrets and ids as they would look anywhere in a cassette, bodies included. (Article text in
# request bodies may say "cookie"; it may not hold a key.)
FORBIDDEN_TEXT = re.compile(
    r"bearer\s+\S|sk-[A-Za-z0-9_-]{10,}|chatcmpl-[A-Za-z0-9]", re.IGNORECASE
)


# Cassettes of articles other than the seeds, each with the test that replays it.
OTHERS = {"adversarial-injection": "tests/test_adversarial.py"}


def test_every_seed_has_a_cassette_and_every_cassette_a_test() -> None:
    # ``chunked`` asks the model about every seed; the default only where its rules name no
    # proposer, so a default cassette (seed-NAME) exists only for a seed it asked about.
    chunked = [c.stem for c in CASSETTES if c.stem.startswith("chunked-")]
    assert chunked == [f"chunked-{s.stem}" for s in SEEDS]
    default = [c.stem for c in CASSETTES if c.stem.startswith("seed-")]
    assert set(default) <= {f"seed-{s.stem}" for s in SEEDS}
    others = {c.stem for c in CASSETTES} - set(chunked) - set(default)
    assert others == set(OTHERS)
    for name, test in OTHERS.items():
        assert f'"{name}"' in (ROOT / test).read_text(encoding="utf-8")


def test_cassettes_carry_no_credentials_cookies_or_request_ids() -> None:
    for cassette in CASSETTES:
        text = cassette.read_text(encoding="utf-8")
        found = FORBIDDEN_TEXT.search(text)
        assert found is None, f"{cassette.name} holds {found.group(0)!r}"
        for interaction in yaml.safe_load(text)["interactions"]:
            for side in ("request", "response"):
                names = {name.lower() for name in interaction[side]["headers"]}
                assert not names & FORBIDDEN_HEADERS, f"{cassette.name} {side}: {names}"


def test_cassettes_are_chat_completions_from_the_embedded_model() -> None:
    for cassette in CASSETTES:
        data = yaml.safe_load(cassette.read_text(encoding="utf-8"))
        assert data["interactions"], cassette.name
        for interaction in data["interactions"]:
            request = json.loads(interaction["request"]["body"])
            assert interaction["request"]["uri"].endswith("/v1/chat/completions")
            assert request["model"] == "smollm2-135m-instruct"
            assert request["response_format"]["type"] == "json_object"
            assert interaction["response"]["status"]["code"] == 200
            answer = json.loads(interaction["response"]["body"]["string"])
            assert answer["usage"]["total_tokens"] > 0
