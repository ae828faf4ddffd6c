# Two commands on a fresh machine: `make extract` (seeds/ -> out/seeds.jsonl on the embedded
# model) and `make test` (lint, types, the offline suite). Both install what they need first.

VENV := .venv
BIN := $(VENV)/bin

.PHONY: install extract test check offline live record clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/install.sh
	bash scripts/install.sh
	touch $@

extract: install
	mkdir -p out
	$(BIN)/extractor extract seeds/ -o out/seeds.jsonl

test: check offline

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The offline suite: network blocked but for loopback (the CLI tests' own server), cassettes
# replayed and never recorded.
offline: install
	$(BIN)/pytest -m "not live" --block-network --allowed-hosts=127.0.0.1,::1 --record-mode=none

# Runs the embedded model for real on a short text.
live: install
	$(BIN)/pytest -m live

# Re-record every cassette from the embedded model and rewrite the goldens from the replay.
record: install
	$(BIN)/pytest tests/test_replay.py --record-mode=rewrite --update-goldens

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
