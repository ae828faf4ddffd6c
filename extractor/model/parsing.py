"""Pure answer parsing: a chat completion (as any server may send it, however malformed) into a
validated answer model, the salvage of a partly valid answer, the usage it reports, and the
meter's usage as a record states it. No I/O; the engine and the batch files share it."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import jiter
from instructor.core.exceptions import ResponseParsingError
from openai.types.chat import ChatCompletion
from pydantic import BaseModel, ValidationError

from ..core.answers import Meter, Outcome
from ..errors import BackendError, OutputError
from ..schemas import ArticleDraft

M = TypeVar("M", bound=BaseModel)

# What instructor re-asks after: the answer is not JSON, not the schema's shape, or fails the
# validators (a quote not in the article).
INVALID = (ValidationError, json.JSONDecodeError, ResponseParsingError)


# No one request reads or writes anywhere near this many tokens: a count past it is broken.
USAGE_CEILING = 10_000_000


def read_usage(usage: Any, url: str | None = None) -> tuple[int, int]:
    """The prompt and completion tokens a server reported for one request (an SDK object, a
    dict, or None when it reported none: 0 and 0).

    Raises:
        BackendError: a count is negative, not a whole number or absurdly large: budgets are kept
            on these counts, so the answer is not trusted.
    """
    if usage is None:
        return 0, 0
    counts = []
    for name in ("prompt_tokens", "completion_tokens"):
        value = usage.get(name) if isinstance(usage, dict) else getattr(usage, name, None)
        if value is None:
            value = 0
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or not (0 <= value <= USAGE_CEILING)
        ):
            raise BackendError(
                f"{url or 'the server'} reported {name}={value!r}, which no request can use; "
                "its token counts (and the budgets kept on them) cannot be trusted, so its "
                "answer is rejected. Fix the server, or use another"
            )
        counts.append(value)
    return counts[0], counts[1]


def _json_text(content: str) -> str:
    """The JSON object inside a message that may wrap it in prose or a code fence."""
    stripped = content.strip()
    if stripped.startswith("{"):
        return stripped
    fenced = re.search(r"```(?:json)?\s*(\{.*?)(?:```|$)", content, re.DOTALL)
    if fenced:
        return fenced.group(1)
    start = content.find("{")
    return content[start:] if start >= 0 else content


def message_content(completion: Any) -> str | None:
    try:
        message = completion.choices[0].message
    except (AttributeError, IndexError, TypeError):
        return None
    if getattr(message, "tool_calls", None):
        arguments: str = message.tool_calls[0].function.arguments
        return arguments
    content: str | None = message.content
    return content


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_CONTROL = re.compile(r"[\x00-\x1f]")


def salvage(
    content: str,
    model: type[M] = ArticleDraft,  # type: ignore[assignment]
) -> tuple[M, list[tuple[str, Any]]]:
    """Parse an answer for shape only, tolerating a cut-off end and pruning malformed items.

    A truncated JSON document is completed as far as it goes; every list item that does not
    validate is removed and returned with its path, so the rest of the answer can still be
    grounded.

    Raises:
        OutputError: nothing with the shape of the schema could be recovered.
    """
    try:
        data = jiter.from_json(_json_text(content).encode(), partial_mode="trailing-strings")
    except ValueError as exc:
        raise OutputError(f"the answer is not JSON: {exc}") from None
    pruned: list[tuple[str, Any]] = []
    for _ in range(200):  # each round removes at least one item; answers are far smaller
        try:
            return model.model_validate(data, context={"ground": False}), pruned
        except ValidationError as invalid:
            error = invalid.errors()[0]
            loc = tuple(error["loc"])
            # The deepest list item that holds the error goes.
            cut = max((i for i, part in enumerate(loc) if isinstance(part, int)), default=None)
            if cut is None:
                raise OutputError(
                    f"the answer does not match the schema: {error['msg']} at "
                    f"{_path(loc) or 'top level'}"
                ) from None
            parent = data
            for part in loc[:cut]:
                parent = parent[part]
            key = loc[cut]
            if isinstance(key, int):
                removed = parent.pop(key)
            else:
                removed, parent[key] = parent[key], None
            pruned.append((_path(loc[: cut + 1]), removed))
    raise OutputError("the answer has too many malformed items to salvage")


def cut_off(completion: ChatCompletion) -> bool:
    """The server ended the answer at max_tokens."""
    choices = getattr(completion, "choices", None) or []
    first: Any = choices[0] if choices else None
    reason = (
        first.get("finish_reason")
        if isinstance(first, dict)
        else getattr(first, "finish_reason", None)
    )
    return bool(reason == "length")


def parsed_completion(answer: dict[str, Any], url: str | None = None) -> ChatCompletion:
    """The SDK's chat completion of a JSON answer; one that does not have the type's every
    field is built as leniently as the SDK builds one (validating costs a twentieth of that).

    A grammar-constrained server can put raw newlines or tabs inside JSON strings, which strict
    JSON parsers reject; between tokens they are plain whitespace, so they become spaces. What
    no record can hold (``storable``) is taken out of the answer.

    Raises:
        OutputError: the answer has no first choice with a message the client can read (a
            server's bug, not the model's: re-asking would get the same).
    """
    try:
        completion = ChatCompletion.model_validate(answer)
    except ValidationError:
        completion = ChatCompletion.model_construct(**answer)
    problem = _unreadable(completion)
    if problem is not None:
        raise OutputError(
            f"{url or 'the server'} answered HTTP 200 with no chat completion this client "
            f"can read ({problem}); fix the server, or use another"
        )
    message = completion.choices[0].message
    if isinstance(message.content, str):
        message.content = storable(message.content)
    for call in message.tool_calls or []:
        function = getattr(call, "function", None)
        if isinstance(getattr(function, "arguments", None), str):
            function.arguments = storable(function.arguments)  # type: ignore[union-attr]
    return completion


def _unreadable(completion: ChatCompletion) -> str | None:
    """What keeps a leniently built completion from being read (None when nothing does): its
    first choice must be a choice whose message has text (or nothing) or tool calls with
    arguments, as the response parsers and re-ask handlers read them."""
    choices: Any = completion.__dict__.get("choices")
    if not isinstance(choices, list) or not choices:
        return f"choices is {_kind(choices)}, not a list of one choice or more"
    choice: Any = choices[0]
    if not isinstance(choice, BaseModel):
        return f"choices[0] is {_kind(choice)}, not a choice"
    message: Any = choice.__dict__.get("message")
    if not isinstance(message, BaseModel):
        return f"choices[0].message is {_kind(message)}, not a message"
    content: Any = message.__dict__.get("content")
    if content is not None and not isinstance(content, str):
        return f"choices[0].message.content is {_kind(content)}, not text"
    calls: Any = message.__dict__.get("tool_calls")
    if calls is None:
        return None
    if not isinstance(calls, list):
        return f"choices[0].message.tool_calls is {_kind(calls)}, not a list"
    for n, call in enumerate(calls):
        function = getattr(call, "function", None)
        if not isinstance(getattr(function, "arguments", None), str):
            return f"choices[0].message.tool_calls[{n}] has no function arguments as text"
    return None


def _kind(value: Any) -> str:
    """A value's JSON kind, for a message (``a string``, ``null``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    kinds = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "an object"}
    if isinstance(value, list) and not value:
        return "an empty list"
    return next((name for kind, name in kinds.items() if isinstance(value, kind)), "an object")


# JSON escapes of what no record can hold: NUL (PostgreSQL cannot store it in a text) and a lone
# UTF-16 surrogate (no character: UTF-8 cannot write it, so no record line could be). An escaped
# backslash is matched first, so ``\\u0000`` (a backslash, then the letters) stays text; a
# surrogate pair (one character) is matched whole and kept.
_UNSTORABLE_ESCAPE = re.compile(
    r"\\\\|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}"
    r"|\\u(0000|[dD][89a-fA-F][0-9a-fA-F]{2})"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unescape_unstorable(match: re.Match[str]) -> str:
    lone = match.group(1)
    if lone is None:
        return match.group(0)
    return "" if lone == "0000" else "\\ufffd"


def storable(content: str) -> str:
    """An answer's text with nothing a record cannot hold: raw control characters become
    spaces (NUL among them), a NUL written as a JSON escape is dropped, and a lone surrogate,
    raw or escaped, becomes U+FFFD (the replacement character)."""
    content = _SURROGATE.sub("\ufffd", _CONTROL.sub(" ", content))
    return _UNSTORABLE_ESCAPE.sub(_unescape_unstorable, content)


def answer_of(
    response_model: type[M],
    body: dict[str, Any],
    *,
    context: dict[str, Any] | None = None,
    max_tokens: int,
    meter: Meter,
) -> Outcome[M]:
    """Validate a chat completion that came back outside the online path (a batch result) the
    way ``ArticleAsker.ask`` validates one with no re-ask left: accepted when it validates, else
    salvaged with the reason. ``meter`` is what the request cost (its usage, as ``read_usage``
    read it).

    Raises:
        OutputError: the body is not a chat completion, or nothing in it has the schema's shape.
    """
    try:
        completion = ChatCompletion.model_validate(body)
    except ValidationError:
        raise OutputError("the result is not a chat completion") from None
    content = message_content(completion)
    if not content:
        raise OutputError("the answer is empty")
    content = storable(content)
    finish = completion.choices[0].finish_reason if completion.choices else None
    problem = None
    if finish == "length":  # a batch answer cannot be asked again
        meter.cut_off += 1
        meter.kept_cut += 1
        problem = f"the answer was cut off at max_tokens={max_tokens}"
    else:
        try:
            draft = response_model.model_validate_json(
                _json_text(content), context=context, strict=False
            )
            return Outcome(draft=draft, grounded=True, meter=meter)
        except ValidationError as exc:
            problem = f"the answer did not validate (a batch answer is not re-asked): {exc}"
    try:
        draft, pruned = salvage(content, response_model)
    except OutputError as exc:
        raise OutputError(f"{problem}, and {exc}") from None
    return Outcome(draft=draft, grounded=False, meter=meter, problem=problem, pruned=pruned)


def describe_usage(meter: Meter) -> dict[str, int]:
    """The usage block of a record."""
    return {
        "prompt_tokens": meter.prompt_tokens,
        "completion_tokens": meter.completion_tokens,
        "total_tokens": meter.total_tokens,
        "requests": meter.requests,
        "cut_off": meter.cut_off,
    }
