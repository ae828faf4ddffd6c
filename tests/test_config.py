"""Settings resolve flag > environment > default, once, and reject malformed values."""

from __future__ import annotations

import pytest

from extractor.config import EMBEDDED_MODEL, RetryPolicy, resolve
from extractor.errors import ConfigError


def test_nothing_configured_means_the_embedded_model() -> None:
    settings = resolve(env={})
    assert settings.embedded
    assert settings.model == EMBEDDED_MODEL
    assert settings.resolved_mode() == "llamacpp"


def test_environment_selects_a_server_and_flags_win() -> None:
    env = {"OPENAI_BASE_URL": "http://env:1/v1/", "EXTRACTOR_MODEL": "m-env", "OPENAI_API_KEY": "k"}
    settings = resolve(env=env)
    assert (settings.base_url, settings.model, settings.api_key) == (
        "http://env:1/v1",
        "m-env",
        "k",
    )
    assert settings.resolved_mode() == "json_schema"
    flagged = resolve(base_url="http://flag:2/v1", model="m-flag", mode="llamacpp", env=env)
    assert (flagged.base_url, flagged.model, flagged.resolved_mode()) == (
        "http://flag:2/v1",
        "m-flag",
        "llamacpp",
    )


def test_retry_budget_is_stated_once() -> None:
    settings = resolve(env={"EXTRACTOR_MAX_REASKS": "2", "EXTRACTOR_TRANSPORT_RETRIES": "1"})
    assert settings.retry == RetryPolicy(max_reasks=2, transport_retries=1)
    assert settings.retry.max_requests == 6
    assert resolve(max_reasks=0, env={"EXTRACTOR_MAX_REASKS": "2"}).retry.max_reasks == 0


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({"base_url": "localhost:8000"}, {}, "not an http\\(s\\) URL"),
        ({"mode": "magic"}, {}, "unknown mode 'magic'"),
        ({}, {"EXTRACTOR_MAX_REASKS": "many"}, "EXTRACTOR_MAX_REASKS='many' is not a whole number"),
        ({}, {"EXTRACTOR_TIMEOUT": "-1"}, "must be positive"),
    ],
)
def test_malformed_settings_say_what_to_fix(
    kwargs: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        resolve(env=env, **kwargs)  # type: ignore[arg-type]


def test_the_started_embedded_server_keeps_the_embedded_mode() -> None:
    started = resolve(env={}).with_base_url("http://127.0.0.1:5555/v1")
    assert not started.embedded
    assert started.resolved_mode() == "llamacpp"
