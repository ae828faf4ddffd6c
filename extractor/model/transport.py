"""The HTTP side of the engine: connection pools spread over several connections, the cap on an
answer's size, the circuit breaker over connection failures in a row, and the synchronous
client of the Files and Batches API."""

from __future__ import annotations

import functools
import ssl
import threading

import httpx2
import openai

from ..config import Settings, masked
from ..errors import BackendError, ConfigError


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One TLS context for every client of the process: loading the CA certificates costs tens
    of milliseconds, more than a client's every other part."""
    return httpx2.create_ssl_context()


class _Pool:
    def __init__(self) -> None:
        self.transport = httpx2.AsyncHTTPTransport(verify=_ssl_context())
        self.in_flight = 0


class Pools(httpx2.AsyncBaseTransport):
    """Connections in several pools: each request goes to the pool with the fewest in flight,
    and a new pool is opened when every pool has ``size``.

    A connection pool goes over all its connections twice for every request, so the CPU a
    request costs grows with the requests in flight; in pools of ``size`` it stays as it is at
    ``size`` (with 128 in flight, one pool cost about half as much again per request as pools
    of 16, in ``benchmarks/client.py``'s loop).
    """

    def __init__(self, size: int = 16) -> None:
        self._size = size
        self._pools: list[_Pool] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        pool = min(self._pools, key=lambda p: p.in_flight, default=None)
        if pool is None or pool.in_flight >= self._size:
            pool = _Pool()
            self._pools.append(pool)
        pool.in_flight += 1
        try:
            return await pool.transport.handle_async_request(request)
        finally:
            pool.in_flight -= 1  # the answer's body is still to be read: close enough

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.transport.aclose()


class Breaker:
    """Connection failures in a row, across every article of a run: at ``limit`` (0: never) the
    server is taken for gone, and the run stops instead of spending every article's retries on
    it. Any answer from the server, an HTTP error included, starts the count again."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._count = 0
        self._lock = threading.Lock()

    def failed(self) -> bool:
        """Count a request that could not reach the server; true once the limit is reached."""
        with self._lock:
            self._count += 1
            return 0 < self.limit <= self._count

    def answered(self) -> None:
        with self._lock:
            self._count = 0


# The most of an answer that is read: a chat completion of the longest max_tokens is a small
# part of it, and a server sending more (a runaway generation, a file where the API should be)
# would otherwise hold the whole body in memory, several times over while it is parsed.
MAX_ANSWER_BYTES = 4_000_000
# Headers of the body as sent, which no longer describe it once it is read (and decoded).
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


async def read_capped(response: httpx2.Response, url: str | None) -> httpx2.Response:
    """``response`` (sent with ``stream=True``) with its body read, at most
    ``MAX_ANSWER_BYTES`` of it (decoded, so a compressed body cannot get past it either).

    Raises:
        BackendError: the body is longer (by its Content-Length, before anything is read).
    """
    too_long = BackendError(
        f"{url or 'the server'} answered HTTP {response.status_code} with more than "
        f"{MAX_ANSWER_BYTES:,} bytes, more than any chat completion takes; the rest was not "
        "read. Check the server (a runaway generation?) or --base-url"
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise too_long
    if declared.isdigit() and "content-encoding" not in response.headers:
        await response.aread()  # the length is known and within the cap: read it at once
        return response
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            raise too_long
        chunks.append(chunk)
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
    return httpx2.Response(
        response.status_code, headers=headers, content=b"".join(chunks), request=response.request
    )


def not_json(url: str | None, response: httpx2.Response, secret: str | None = None) -> ConfigError:
    kind = response.headers.get("content-type") or "no content type"
    start = masked(response.content[:4000].decode("utf-8", errors="replace"), secret)[:80]
    return ConfigError(
        f"{url} answered HTTP {response.status_code} with {kind}, not a JSON chat completion: "
        f"{start!r}; check --base-url / OPENAI_BASE_URL (an OpenAI-compatible API, usually "
        "ending in /v1)"
    )


def api_client(settings: Settings) -> openai.OpenAI:
    """The synchronous client of the OpenAI Files and Batches API (``extractor batch submit``,
    ``status``, ``fetch``), with the SDK's own retries off: its calls go through
    :func:`with_retries`, the retry policy every request of the project keeps."""
    return openai.OpenAI(
        base_url=settings.base_url,
        api_key=settings.api_key or "not-needed",
        max_retries=0,
        timeout=settings.timeout,
    )
