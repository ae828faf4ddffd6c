"""A loopback OpenAI-compatible server replaying a capable model's stored answers (stdlib only).

The answers in ``tests/capable/`` were written by a capable model from the request
``--strategy single`` sends for each development article (README there); they are not
recordings of a server. This server answers each chat completion with the stored answer of the
article in its user message, found by the sha256 of the article text, and ``{"proposals": []}``
for any other article. With ``simulate_max_tokens`` it cuts an answer longer than the request's
``max_tokens`` (estimated from its characters: no tokenizer offline) and reports
``finish_reason: "length"``, as a real server enforcing the cap would.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

# Where the article sits in the user message of extract-v1 (prompts/extract-v1/user.txt).
HEAD = 'Article:\n"""\n'
TAIL = '\n"""'


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def article_text(body: dict[str, Any]) -> str | None:
    """The article text in a request's user message, or None when it holds none."""
    for message in body.get("messages", []):
        if message.get("role") != "user":
            continue
        content = message.get("content") or ""
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        start, end = content.find(HEAD), content.rfind(TAIL)
        if start >= 0 and end > start:
            return str(content[start + len(HEAD) : end])
    return None


def estimated_tokens(text: str) -> float:
    """A rough o200k-like count: 3.8 characters a token for Latin text and JSON, 3.0 for
    Cyrillic (the estimate ``../shared/capable/replay.py`` cuts with)."""
    cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in text)
    return (len(text) - cyrillic) / 3.8 + cyrillic / 3.0


def cut_to(text: str, cap: int) -> str:
    """The longest start of ``text`` estimated at no more than ``cap`` tokens."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if estimated_tokens(text[:middle]) <= cap:
            low = middle
        else:
            high = middle - 1
    return text[:low]


@dataclass
class Served:
    """One request the server answered: which article, the cap asked, how it ended."""

    article: str | None
    max_tokens: int
    finish_reason: str
    answer_tokens: float


@dataclass
class Replay:
    """The stored answers by article hash, and what was served."""

    answers: dict[str, tuple[str, str]]  # sha256 of the article -> (file name, answer JSON)
    model: str = "capable-replay"
    simulate_max_tokens: bool = False
    served: list[Served] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, answers: Path, articles: list[Path], **options: Any) -> Replay:
        """The answers ``answers/<article file name>.json`` of ``articles`` (those that have
        one), keyed by the article text as the extractor reads it (UTF-8)."""
        stored = {}
        for path in articles:
            answer = answers / f"{path.name}.json"
            if answer.is_file():
                content = answer.read_text(encoding="utf-8")
                json.loads(content)  # a stored answer is JSON, or the test set is broken
                stored[sha256(path.read_text(encoding="utf-8"))] = (path.name, content)
        return cls(stored, **options)

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        text = article_text(body)
        name, content = self.answers.get(sha256(text), (None, None)) if text else (None, None)
        content = content if content is not None else json.dumps({"proposals": []})
        finish = "stop"
        cap = int(body.get("max_tokens") or 0)
        if self.simulate_max_tokens and cap and estimated_tokens(content) > cap:
            content, finish = cut_to(content, cap), "length"
        tokens = estimated_tokens(content)
        with self._lock:
            self.served.append(Served(name, cap, finish, tokens))
            number = len(self.served)
        prompt = max(1, sum(len(str(m.get("content") or "")) for m in body["messages"]) // 4)
        completion = max(1, round(tokens))
        return {
            "id": f"chatcmpl-replay-{number}",
            "object": "chat.completion",
            "created": 0,
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": finish,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }


class ReplayServer:
    """``Replay`` on a real socket at 127.0.0.1 (the command line builds its own client)."""

    def __init__(self, replay: Replay, port: int = 0) -> None:
        self.replay = replay

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("content-length") or 0))
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._send(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self._send(200, replay.completion(json.loads(raw)))

            def _send(self, code: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def main() -> None:
    """Serve the answers by hand, e.g. for docs/quality.md's figures:
    ``python tests/capable_replay.py --answers tests/capable/answers-v2 --port 18777 ARTICLE...``
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=Path, required=True, help="folder of <article>.json")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument(
        "--no-cut", action="store_true", help="never cut an answer at the request's max_tokens"
    )
    parser.add_argument("articles", nargs="+", type=Path)
    args = parser.parse_args()
    replay = Replay.load(args.answers, args.articles, simulate_max_tokens=not args.no_cut)
    with ReplayServer(replay, args.port) as server:
        print(f"{len(replay.answers)} answers at {server.base_url}", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
