"""Shared fixtures: cassette settings (matching on the request body, scrubbed) and goldens."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = ROOT / "cassettes"
# The address cassettes are recorded under and replayed against: the embedded server's port is
# random, so requests are rewritten to this one before they are stored.
REPLAY_BASE_URL = "http://127.0.0.1:8089/v1"
KEEP_REQUEST_HEADERS = {"content-type"}
KEEP_RESPONSE_HEADERS = {"content-type"}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite tests/golden/ from this run instead of comparing against it",
    )


def _scrub_request(request: Any) -> Any:
    for name in list(request.headers):
        if name.lower() not in KEEP_REQUEST_HEADERS:
            del request.headers[name]
    path = request.uri.split("/v1/", 1)[-1]
    request.uri = f"{REPLAY_BASE_URL}/{path}"
    return request


def _scrub_response(response: dict[str, Any]) -> dict[str, Any]:
    response["headers"] = {
        name: value
        for name, value in response["headers"].items()
        if name.lower() in KEEP_RESPONSE_HEADERS
    }
    body = response["body"]["string"]
    try:
        data = json.loads(body)
    except (ValueError, TypeError):
        return response
    if isinstance(data, dict) and "id" in data:
        data["id"] = "scrubbed"  # completion ids are request ids: not worth keeping
        response["body"]["string"] = json.dumps(data, ensure_ascii=False).encode()
    return response


@pytest.fixture(scope="session")
def vcr_config() -> dict[str, Any]:
    return {
        # Without the body, a changed prompt or schema would silently replay an old answer.
        "match_on": ["method", "scheme", "path", "query", "body"],
        "before_record_request": _scrub_request,
        "before_record_response": _scrub_response,
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="module")
def vcr_cassette_dir() -> str:
    return str(CASSETTES)


@pytest.fixture(scope="session")
def model_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where the model is: the embedded server while recording, a never-contacted URL on replay."""
    if request.config.getoption("--record-mode") in (None, "none"):
        yield REPLAY_BASE_URL
        return
    from extractor.model import embedded

    with embedded.serve() as url:
        yield url


@pytest.fixture(scope="session")
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(autouse=True)
def private_cache(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Each test gets its own record cache, so no test is answered by another's records (or by
    the user's cache)."""
    directory = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("EXTRACTOR_CACHE_DIR", str(directory))
    return directory
