# The two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-fast lint format openapi bench clean

$(BIN)/kring: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(BIN)/kring

## demo: install, load demo data and start the service on 127.0.0.1:8000
demo: $(BIN)/kring
	$(BIN)/kring geo 9711 8911 9401

## test: lint, architecture contracts, then the whole pytest suite (slow tests included)
test: $(BIN)/kring lint
	$(BIN)/pytest

## test-fast: the suite without tests marked slow (for the edit loop)
test-fast: $(BIN)/kring
	$(BIN)/pytest -m "not slow" -q

lint: $(BIN)/kring
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(BIN)/kring
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache .ruff_cache .mypy_cache
