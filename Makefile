# The two set-up commands are `make render` and `make test`; everything else builds on them.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: render test check diff validate bench lint format system clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TEST_STAMP): pyproject.toml $(STAMP)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $@

render: $(STAMP) ## inventory.yaml -> out/
	$(BIN)/infragen render

check: $(STAMP) ## exit 1 when out/ is stale or edited by hand
	$(BIN)/infragen check

diff: $(STAMP) ## what a render would change in out/
	$(BIN)/infragen diff

validate: $(STAMP) ## the inventory and its cross-checks only
	$(BIN)/infragen validate

system: ## Debian tools the tests run for real (nix-bin, pdns, nftables), when missing
	sh scripts/setup-system.sh

test: $(TEST_STAMP) system ## the whole suite
	$(BIN)/pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(TEST_STAMP)
	$(BIN)/ruff format .

bench: $(TEST_STAMP) system ## speed and memory figures on a synthetic estate
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
