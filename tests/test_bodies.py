"""Request bodies come from one pure function: the bytes the embedded model was recorded
answering, the structured output instructor asks for in each mode, and what the engine sends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import instructor
import pytest
import yaml
from conftest import CASSETTES, REPLAY_BASE_URL
from handbuilt import GOOD, Script, engine, ok
from instructor.v2 import Provider, mode_registry
from pydantic import BaseModel

from extractor import config, strategies
from extractor.core.prompting import render
from extractor.io.articles import parse
from extractor.model.bodies import chat_body, encode, request_body
from extractor.schemas import ArticleDraft

ROOT = Path(__file__).resolve().parent.parent
# The seeds' cassettes: ``chunked-NAME`` for strategy chunked, ``seed-NAME`` for the default.
RECORDED = sorted(
    path.stem for path in CASSETTES.glob("*.yaml") if path.stem.startswith(("chunked-", "seed-"))
)


@pytest.mark.parametrize("cassette", RECORDED)
def test_planned_bodies_are_the_recorded_ones_byte_for_byte(cassette: str) -> None:
    kind, name = cassette.split("-", 1)
    seed = ROOT / "seeds" / f"{name}.txt"
    article = parse(str(seed.relative_to(ROOT)), seed.read_bytes())
    strategy_name = "auto" if kind == "seed" else kind
    settings = config.resolve(strategy=strategy_name, env={}).with_base_url(REPLAY_BASE_URL)
    strategy = strategies.for_settings(settings)
    asks = strategy.plan(article.text, strategy.prompt(settings.prompt_version))
    recorded = yaml.safe_load((CASSETTES / f"{cassette}.yaml").read_text(encoding="utf-8"))
    bodies = [i["request"]["body"].encode() for i in recorded["interactions"]]
    assert asks, "a cassette of a plan that asks nothing"
    assert [encode(request_body(ask, settings)) for ask in asks] == bodies


TEXT = "Kyiv asked Washington to guarantee its security within 72 hours, officials said."
ANSWERS: list[type[BaseModel]] = [
    ArticleDraft,
    strategies.Names,
    strategies.Phrases,
    strategies.Phrase,
    strategies.choice_model(["Kyiv", "Washington"], many=False),
    strategies.choice_model(["Crimea", 'Donbas "east"'], many=True, at_least=1),
]
INSTRUCTOR_MODES = {
    "json_schema": instructor.Mode.JSON_SCHEMA,
    "llamacpp": instructor.Mode.JSON_SCHEMA,
    "json": instructor.Mode.JSON,
    "tools": instructor.Mode.TOOLS,
}


def instructors_request(
    answer: type[BaseModel], settings: config.Settings, max_tokens: int
) -> dict[str, Any]:
    """The request instructor prepares for ``answer`` in the settings' mode, with the response
    format the embedded server is sent in place of instructor's in llamacpp mode."""
    mode = settings.resolved_mode()
    handlers = mode_registry.get_handlers(Provider.OPENAI, INSTRUCTOR_MODES[mode])
    given = {
        "messages": render("extract-v1", TEXT),
        "model": settings.model,
        "max_tokens": max_tokens,
        "seed": settings.seed,
        "temperature": settings.temperature,
    }
    _, prepared = handlers.request_handler(response_model=answer, kwargs=given)
    if mode == "llamacpp":
        schema = json.loads(json.dumps(answer.model_json_schema()))
        prepared["response_format"] = {"type": "json_object", "schema": bounded(schema)}
    return dict(prepared)


def bounded(node: Any) -> Any:
    """``maxLength`` 300 on every open string of a schema, written out here independently."""
    if isinstance(node, list):
        return [bounded(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: bounded(value) for key, value in node.items()}
    if out.get("type") == "string" and not {"enum", "const", "maxLength"} & set(out):
        out["maxLength"] = 300
    return out


@pytest.mark.parametrize("mode", list(INSTRUCTOR_MODES))
@pytest.mark.parametrize("answer", ANSWERS, ids=[a.__name__ for a in ANSWERS])
def test_each_mode_asks_for_the_structured_output_instructor_asks_for(
    mode: str, answer: type[BaseModel]
) -> None:
    settings = config.resolve(base_url="http://127.0.0.1:9/v1", mode=mode, env={})
    body = chat_body(answer, render("extract-v1", TEXT), settings, max_tokens=160)
    assert body == instructors_request(answer, settings, 160)
    # The SDK's order: messages and model first, the rest by name.
    keys = list(body)
    assert keys[:2] == ["messages", "model"] and keys[2:] == sorted(keys[2:])


def test_the_engine_sends_the_body_and_a_reask_extends_it() -> None:
    messages = render("extract-v1", TEXT)
    script = Script([ok('{"proposals": "none"}'), ok(GOOD)])
    eng = engine(script, mode="llamacpp")
    eng.run(eng.asker.ask(ArticleDraft, messages))
    settings = eng.settings
    first, second = script.requests
    assert first.content == encode(chat_body(ArticleDraft, messages, settings))
    reask = json.loads(second.content)
    assert reask == {**json.loads(first.content), "messages": reask["messages"]}
    assert reask["messages"][:2] == messages
    assert reask["messages"][2] == {"role": "assistant", "content": '{"proposals": "none"}'}
    assert reask["messages"][3]["content"].startswith("Correct your JSON ONLY RESPONSE")
