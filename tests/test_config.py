"""Settings are declared once and resolve flag > environment > default, rejecting malformed
values with a message naming the variable or keyword."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from extractor import config
from extractor.config import EMBEDDED_MODEL, RetryPolicy, Settings, resolve
from extractor.errors import ConfigError

TABLE_START = "<!-- settings table: config.markdown_table() -->"
TABLE_END = "<!-- end of the settings table -->"


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


def test_every_setting_is_declared_with_its_own_variable() -> None:
    variables = [s.declared.variable for s in config.SETTINGS.values()]
    assert len(set(variables)) == len(variables)
    assert all(v.startswith(("EXTRACTOR_", "OPENAI_")) for v in variables)
    assert all(s.declared.help.endswith(".") for s in config.SETTINGS.values())


@pytest.mark.parametrize(
    "name",
    [s.name for s in config.SETTINGS.values() if s.field.annotation in (int, float, int | None)],
)
def test_a_number_comes_from_the_keyword_else_the_variable_else_the_default(name: str) -> None:
    variable = config.SETTINGS[name].declared.variable
    # max_tokens's default depends on the model (the embedded one when nothing is set).
    default = 1024 if name == "max_tokens" else config.SETTINGS[name].field.default
    assert getattr(resolve(env={}), name) == default
    assert getattr(resolve(env={variable: "7"}), name) == 7
    assert getattr(resolve(env={variable: "7"}, **{name: 3}), name) == 3
    assert getattr(resolve(env={variable: ""}), name) == default


def test_the_answer_budget_fits_a_capable_models_long_answer_but_not_the_embedded_models() -> None:
    """A capable model's answer for a long article runs to 1,600 tokens (docs/quality.md): a
    server's model gets 4096, and an answer cut off there may grow to 16,384 when asked again;
    the embedded model keeps 1024 and is not asked again (its cut answers are repetition)."""
    embedded = resolve(env={})
    assert (embedded.max_tokens, embedded.max_tokens_ceiling) == (1024, 1024)
    started = embedded.with_base_url("http://127.0.0.1:8011/v1")  # the embedded server
    assert (started.max_tokens, started.max_tokens_ceiling) == (1024, 1024)
    by_hand = resolve(env={}, base_url="http://127.0.0.1:8011/v1", model="smollm2-135m-instruct")
    assert (by_hand.max_tokens, by_hand.max_tokens_ceiling) == (1024, 1024)
    server = resolve(env={}, base_url="http://127.0.0.1:8000/v1")
    assert (server.max_tokens, server.max_tokens_ceiling) == (4096, 16384)
    chosen = resolve(env={"EXTRACTOR_MAX_TOKENS": "20000"}, base_url="http://127.0.0.1:8000/v1")
    assert (chosen.max_tokens, chosen.max_tokens_ceiling) == (20000, 20000)


def test_the_cache_folder_follows_xdg_unless_its_variable_is_set(tmp_path: Path) -> None:
    home = {"XDG_CACHE_HOME": str(tmp_path)}
    assert resolve(env=home).cache_dir == tmp_path / "guarantee-extractor" / "records"
    chosen = {**home, "EXTRACTOR_CACHE_DIR": str(tmp_path / "mine")}
    assert resolve(env=chosen).cache_dir == tmp_path / "mine"
    assert resolve(env=chosen, cache_dir=str(tmp_path / "flag")).cache_dir == tmp_path / "flag"
    assert resolve(env={}).cache_dir == Path.home() / ".cache" / "guarantee-extractor" / "records"


@pytest.mark.parametrize(
    ("kwargs", "env", "message"),
    [
        ({}, {"EXTRACTOR_MODE": "magic"}, "unknown mode 'magic' in EXTRACTOR_MODE; choose one of "),
        ({"timeout": "soon"}, {}, "timeout='soon' is not a number; set it to e.g. 300"),
        ({}, {"EXTRACTOR_RETRY_BUDGET": "-2"}, "EXTRACTOR_RETRY_BUDGET='-2' must not be negative"),
        ({}, {"EXTRACTOR_MAX_TOKENS": "0"}, "EXTRACTOR_MAX_TOKENS='0' must be at least 1"),
        (
            {},
            {"EXTRACTOR_MAX_TOKENS_PER_ARTICLE": "1.5"},
            "EXTRACTOR_MAX_TOKENS_PER_ARTICLE='1.5' is not a whole number; set it to e.g. 20000",
        ),
    ],
)
def test_a_malformed_value_is_named_by_where_it_was_given(
    kwargs: dict[str, str], env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(env=env, **kwargs)  # type: ignore[arg-type]
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_an_unknown_keyword_names_the_nearest_setting() -> None:
    with pytest.raises(TypeError, match="unknown setting 'timout'; did you mean 'timeout'\\?"):
        resolve(timout=3, env={})


def test_settings_are_frozen_and_read_the_environment_when_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EXTRACTOR_TIMEOUT", "12")
    monkeypatch.setenv("EXTRACTOR_MODEL", "m-env")
    settings = Settings(model="m-keyword")
    assert (settings.timeout, settings.model) == (12.0, "m-keyword")
    assert resolve().timeout == 12.0
    with pytest.raises(ValidationError, match="frozen"):
        settings.timeout = 1  # type: ignore[misc]


def test_the_readme_settings_table_is_the_declaration() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    start = readme.index(TABLE_START) + len(TABLE_START) + 1
    end = readme.index(TABLE_END)
    assert readme[start:end] == config.markdown_table(), (
        "README's settings table differs from extractor/config.py; paste the output of "
        "`python -c 'from extractor import config; print(config.markdown_table(), end=\"\")'`"
    )


def test_the_api_key_stays_out_of_the_printed_settings() -> None:
    settings = resolve(api_key="sk-handbuilt-secret", env={})
    assert settings.api_key == "sk-handbuilt-secret"
    assert "sk-handbuilt-secret" not in repr(settings)
