"""Hand-built chat completions served through an in-memory transport (no model, no network).

Everything here is made up by the tests; nothing in it came from a model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx2

from extractor.config import Settings
from extractor.model.sync import Engine

BASE_URL = "http://handbuilt.invalid/v1"


def handbuilt_completion(
    content: str,
    *,
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    finish_reason: str = "stop",
) -> dict[str, Any]:
    """A hand-built chat-completion body whose message content is ``content``."""
    return {
        "id": "chatcmpl-handbuilt",
        "object": "chat.completion",
        "created": 0,
        "model": "handbuilt",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def draft_json(**proposal: Any) -> str:
    """A hand-built ArticleDraft answer holding one proposal (or none when no fields are given)."""
    if not proposal:
        return json.dumps({"proposals": []})
    return json.dumps({"proposals": [proposal]})


@dataclass
class Script:
    """Serves the queued responses in order and keeps every request it received."""

    responses: list[httpx2.Response | Callable[[httpx2.Request], httpx2.Response]]
    requests: list[httpx2.Request] = field(default_factory=list)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if not self.responses:
            raise AssertionError(f"unexpected request #{len(self.requests)}")
        answer = self.responses.pop(0)
        return answer(request) if callable(answer) else answer

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]


def ok(content: str, **kwargs: Any) -> httpx2.Response:
    return httpx2.Response(200, json=handbuilt_completion(content, **kwargs))


def status(code: int, headers: dict[str, str] | None = None) -> httpx2.Response:
    return httpx2.Response(code, json={"error": {"message": f"handbuilt {code}"}}, headers=headers)


def settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "api_key": "test-key",
        "model": "handbuilt",
        "mode": "json_schema",
        "max_reasks": 1,
        "transport_retries": 2,
    }
    values.update(overrides)
    return Settings(**values)


def engine(script: Script, sleeps: list[float] | None = None, **overrides: Any) -> Engine:
    sink = sleeps if sleeps is not None else []
    return Engine(
        settings(**overrides),
        http_client=httpx2.AsyncClient(transport=httpx2.MockTransport(script)),
        sleep=sink.append,
    )


class ResetConnection(Exception):
    """Raised by a scripted answer to make the loopback server drop the connection."""


def reset(request: httpx2.Request) -> httpx2.Response:
    raise ResetConnection


def slow(seconds: float, then: httpx2.Response) -> Callable[[httpx2.Request], httpx2.Response]:
    """An answer that arrives only after ``seconds``."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        time.sleep(seconds)
        return then

    return answer


class LoopbackServer:
    """A real HTTP server on 127.0.0.1 answering chat completions from a ``Script``.

    For tests that must go through a real socket (the CLI, which builds its own client).
    """

    def __init__(self, script: Script, port: int = 0) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                request = httpx2.Request(
                    "POST",
                    f"http://127.0.0.1{self.path}",
                    headers=list(self.headers.items()),
                    content=body,
                )
                try:
                    response = outer.script(request)
                except ResetConnection:
                    # Close the socket without a word: the client sees a reset connection.
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                payload = response.read()
                self.send_response(response.status_code)
                for name, value in response.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                try:
                    self.send_header("content-length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client went away (killed, or timed out): nobody to answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # hundreds of clients may connect at once

        self.script = script
        self._server = Server(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> LoopbackServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.die()

    def die(self) -> None:
        """Stop answering and close the listening socket: later connections are refused."""
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()


# Answers picked from the request body alone, so that every path (online, batch files, Ray, a
# stand-in for vLLM) gets the same answer to the same request. All of it is hand-built.
GOOD = draft_json(
    summary="Kyiv asks for a US guarantee.",
    proposer="Kyiv",
    guarantors=[{"name": "Washington", "quote": "asked Washington"}],
    response_times=[{"text": "72 hours", "quote": "within 72 hours"}],
    quote="Kyiv asked Washington to guarantee its security",
)


def content_of(body: dict[str, Any]) -> tuple[str, str]:
    """The hand-built message content (and finish reason) for one request body."""
    text = body["messages"][-1]["content"]
    shape = body["response_format"]  # json_schema, or llamacpp's json_object with a schema
    form = shape.get("json_schema") or {"name": shape["schema"]["title"], **shape}
    if form["name"] == "ArticleDraft":  # the long article's answer is cut off: salvaged
        return (GOOD[:-3], "length") if "Geneva" in text else (GOOD, "stop")
    fields = form["schema"]["properties"]
    if "value" in fields:
        option = fields["value"]["anyOf"][0]
        return json.dumps({"value": option.get("const") or option["enum"][0]}), "stop"
    if form["name"] == "Names":  # France is in no article: dropped
        names = [n for n in ("Washington", "Britain") if n in text] + ["France"]
        return json.dumps({"values": names}), "stop"
    phrases = ["only if a ceasefire holds first"] if "ceasefire" in text else []
    return json.dumps({"values": phrases}), "stop"


def completion(body: dict[str, Any]) -> dict[str, Any]:
    content, finish = content_of(body)
    prompt = len(body["messages"][-1]["content"]) // 10
    return handbuilt_completion(
        content, prompt_tokens=prompt, completion_tokens=7, finish_reason=finish
    )


def answer(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=completion(json.loads(request.content)))
