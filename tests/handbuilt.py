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

from extractor.client import Engine
from extractor.config import RetryPolicy, Settings

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
        "retry": RetryPolicy(max_reasks=1, transport_retries=2),
    }
    values.update(overrides)
    return Settings(**values)


def engine(script: Script, sleeps: list[float] | None = None, **overrides: Any) -> Engine:
    sink = sleeps if sleeps is not None else []
    return Engine(
        settings(**overrides),
        http_client=httpx2.Client(transport=httpx2.MockTransport(script)),
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
                request = httpx2.Request("POST", f"http://127.0.0.1{self.path}", content=body)
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

        self.script = script
        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
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
