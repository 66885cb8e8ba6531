# The two commands a fresh clone needs: `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: demo test test-fast test-postgres lint format openapi bench clean

$(BIN)/kring: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip || $(BIN)/pip install --quiet --upgrade pip
	# one retry: a registry hiccup in pip's isolated build env must not sink CI
	$(BIN)/pip install --quiet -e '.[dev]' || $(BIN)/pip install --quiet -e '.[dev]'
	# compile the numba search kernels now (their disk cache), not in a user's first run (issue 16)
	$(BIN)/python -c 'import matching; print(f"search kernels ready in {matching.warm_kernels():.1f} s")'
	# bench/ (benchmarks, load tests) is not in the wheel: put this checkout on the venv's path
	$(BIN)/python -c 'import site, sys; open(site.getsitepackages()[0] + "/kring-checkout.pth", "w").write(sys.argv[1] + "\n")' '$(CURDIR)'
	touch $(BIN)/kring

# --- map page (issues 6, 17): Leaflet pinned in package-lock.json, VENDORED into the package ---
# app/static/vendor/leaflet holds committed copies (licence in app/static/vendor/NOTICE), so a
# wheel, the Docker image and a checkout serve the same page without npm.  `make map-vendor`
# refreshes them after a version bump; tests/map/test_packaging.py checks they match the pin.
VENDOR := app/static/vendor/leaflet
.PHONY: map-vendor
map-vendor: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)/images
	cp node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css $(VENDOR)/
	cp node_modules/leaflet/dist/images/*.png $(VENDOR)/images/
	cp node_modules/leaflet/LICENSE $(VENDOR)/LICENSE
LEAFLET := $(VENDOR)/leaflet.js
# --- end map page ---

## demo: install, migrate, load a demo cohort, start a first run, serve on 127.0.0.1:8000 (PORT=8802 for another port)
demo: $(BIN)/kring $(LEAFLET)
	$(BIN)/kring demo $(if $(PORT),--port $(PORT))

## openapi: regenerate openapi/openapi.json from the app (a test fails when it drifts)
openapi: $(BIN)/kring
	$(BIN)/python -m app.openapi openapi/openapi.json

## test: lint, architecture contracts, then the whole pytest suite (slow tests included)
test: $(BIN)/kring $(LEAFLET) lint
	$(BIN)/pytest
	$(MAKE) test-postgres

## test-postgres: the API tests again on a PostgreSQL server (.ci/services; required in CI)
test-postgres: $(BIN)/kring
	@if urls=$$(.ci/services start postgres); then \
	  env $$urls $(BIN)/pytest -q -p no:cacheprovider tests/app tests/scale/test_claiming.py tests/reliability; \
	elif [ "$${CI:-}" = true ]; then \
	  echo "test-postgres: PostgreSQL is required in CI" >&2; exit 1; \
	else echo "test-postgres: skipped (PostgreSQL not installed)"; fi

## test-fast: the suite without tests marked slow (for the edit loop)
test-fast: $(BIN)/kring $(LEAFLET)
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
