"""The exact chat-completion body of a planned request (pure: settings and request in, JSON out).

The online engine (``extractor.model.client``) sends these bodies, ``batch prepare`` writes them
into request files and the Ray path reads their messages and schema, so one request is the same
request however it is answered. The structured-output part of each mode is the one instructor's
request handler for that mode writes (``tests/test_bodies.py`` holds the two side by side); a
re-ask is this body with the failed answer and the validation error appended to its messages,
as instructor's re-ask handler appends them.

The answer model's JSON Schema is built once per model (``answer_schema``): building it costs
more CPU than the rest of a request's client-side work. The dicts cached for a model are shared
by every body made with it, so a body is read and serialised, never changed in place.
"""

from __future__ import annotations

import json
from functools import lru_cache
from textwrap import dedent
from typing import TYPE_CHECKING, Any

from docstring_parser import parse as parse_docstring
from pydantic import BaseModel
from pydantic_core import to_json

from ..config import Settings
from ..core.prompting import Message

if TYPE_CHECKING:
    from ..strategies import Ask

__all__ = [
    "STRING_CAP",
    "answer_schema",
    "bounded_schema",
    "chat_body",
    "encode",
    "request_body",
]

# Strings the model writes are capped in the grammar the embedded server decodes with, so a small
# model that starts repeating itself stops at a bounded length instead of at max_tokens.
STRING_CAP = 300


def bounded_schema(schema: dict[str, Any], cap: int = STRING_CAP) -> dict[str, Any]:
    """A copy of a JSON Schema with ``maxLength`` added to every string that has none."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            out = {key: walk(value) for key, value in node.items()}
            closed = "enum" in out or "const" in out
            if out.get("type") == "string" and not closed and "maxLength" not in out:
                out["maxLength"] = cap
            return out
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    result: dict[str, Any] = walk(schema)
    return result


@lru_cache(maxsize=256)
def answer_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of an answer model, built once per model."""
    return model.model_json_schema()


@lru_cache(maxsize=256)
def _bounded(model: type[BaseModel]) -> dict[str, Any]:
    return bounded_schema(answer_schema(model))


@lru_cache(maxsize=256)
def _json_schema_format(model: type[BaseModel]) -> dict[str, Any]:
    return {
        "type": "json_schema",
        "json_schema": {"name": model.__name__, "schema": answer_schema(model)},
    }


@lru_cache(maxsize=256)
def _json_object_format(model: type[BaseModel]) -> dict[str, Any]:
    # llama-cpp-python's own form: it answers ``json_schema`` with HTTP 500.
    return {"type": "json_object", "schema": _bounded(model)}


@lru_cache(maxsize=256)
def _json_instruction(model: type[BaseModel]) -> str:
    """The schema as a system instruction, worded as instructor words it in JSON mode."""
    return dedent(
        f"""
            As a genius expert, your task is to understand the content and provide
            the parsed objects in json that match the following json_schema:\n

            {json.dumps(answer_schema(model), indent=2, ensure_ascii=False)}

            Make sure to return an instance of the JSON, not the schema itself
            """
    )


@lru_cache(maxsize=256)
def _tool(model: type[BaseModel]) -> dict[str, Any]:
    """The answer model as the one function the model must call (tools mode)."""
    schema = answer_schema(model)
    docstring = parse_docstring(model.__doc__ or "")
    parameters = {k: v for k, v in schema.items() if k not in ("title", "description")}
    documented = {p.arg_name: p.description for p in docstring.params if p.description}
    properties = {
        name: {**spec, "description": documented[name]}
        if name in documented and "description" not in spec
        else spec
        for name, spec in parameters.get("properties", {}).items()
    }
    if "properties" in parameters:
        parameters["properties"] = properties
    parameters["required"] = sorted(schema.get("required", []))
    description = schema.get("description") or (
        docstring.short_description
        or f"Correctly extracted `{model.__name__}` with all the required parameters with "
        "correct types"
    )
    return {
        "type": "function",
        "function": {"name": schema["title"], "description": description, "parameters": parameters},
    }


def _with_instruction(messages: list[Message], instruction: str) -> list[Message]:
    """``messages`` with ``instruction`` closing the system message (one put first if none)."""
    if messages and messages[0].get("role") == "system":
        first = {**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}"}
        return [first, *messages[1:]]
    return [{"role": "system", "content": instruction}, *messages]


def chat_body(
    answer: type[BaseModel],
    messages: list[Message],
    settings: Settings,
    max_tokens: int | None = None,
) -> dict[str, Any]:
    """The chat-completion body asking ``messages`` for an ``answer``, in the mode the settings
    resolve to, keys in the order the OpenAI SDK writes them (a cassette matches the body).

    Args:
        answer: the answer model; its schema goes into the request as the mode says.
        messages: the chat messages (not changed).
        settings: model, mode, ``max_tokens``, temperature and seed.
        max_tokens: this request's cap on the answer, else ``settings.max_tokens``.
    """
    mode = settings.resolved_mode()
    body: dict[str, Any] = {
        "messages": _with_instruction(messages, _json_instruction(answer))
        if mode == "json"
        else list(messages),
        "model": settings.model,
        "max_tokens": max_tokens or settings.max_tokens,
    }
    if mode == "llamacpp":
        body["response_format"] = _json_object_format(answer)
    elif mode == "json":
        body["response_format"] = {"type": "json_object"}
    elif mode != "tools":
        body["response_format"] = _json_schema_format(answer)
    body["seed"] = settings.seed
    body["temperature"] = settings.temperature
    if mode == "tools":
        tool = _tool(answer)
        body["tool_choice"] = {"type": "function", "function": {"name": tool["function"]["name"]}}
        body["tools"] = [tool]
    return body


def request_body(ask: Ask, settings: Settings) -> dict[str, Any]:
    """The chat-completion body of one planned request (``Strategy.plan``), as sent online."""
    return chat_body(ask.answer, ask.messages, settings, ask.max_tokens)


def encode(body: dict[str, Any]) -> bytes:
    """A body as the bytes sent: compact UTF-8 JSON, as the OpenAI SDK writes it. pydantic's
    serialiser takes a fifth of the standard library's CPU time and writes the same bytes, but
    for the exponent of a float (``1e-7`` where the SDK writes ``1e-07``), which no body has."""
    return to_json(body)
