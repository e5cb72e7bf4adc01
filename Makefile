# DGKB — two commands: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test lint typecheck unit unit-fast install bench bench-mijn bench-dashboard clean check

# The tests run in parallel processes (pytest-xdist), one per core by default; the tests of one
# module, and tests that share NATS subjects, stay together in one (`xdist_group`, `--dist
# loadgroup`, see tests/conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= 2
PYTEST := $(BIN)/pytest -q -n $(TEST_WORKERS) --dist loadgroup

$(STAMP): pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## Start DGKB on http://127.0.0.1:8000 with SQLite and the local simulators (demo data included).
run: $(STAMP)
	$(BIN)/dgkb migrate
	$(BIN)/dgkb check --no-probe
	$(BIN)/dgkb seed-demo
	$(BIN)/dgkb run

## Lint, type check, architecture contracts and the whole test suite (slow tests included, as in CI).
test: $(STAMP) lint typecheck unit

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(PYTEST)

## The tests without the slow ones (browser, fuzzing, subprocesses, linters), for quick iteration.
unit-fast: $(STAMP)
	$(PYTEST) -m "not slow"

bench: $(STAMP)
	$(BIN)/python bench/klantbeeld.py && $(BIN)/python bench/sources.py && $(BIN)/python bench/realtime.py

## Mijn omgeving: Mijn gegevens at 10 concurrent citizens, and the JSON/PDF export (issue 14)
bench-mijn: $(STAMP)
	$(BIN)/python bench/mijn.py && $(BIN)/python bench/mijn_export.py

## Dashboard (issue 15 §4): 1 million contact events on PostgreSQL, the aggregation run, page p95 < 500 ms.
## Empties the database it is given: DGKB_BENCH_DATABASE_URL (default postgresql+asyncpg://postgres@127.0.0.1:5432/dgkb_bench)
bench-dashboard: $(STAMP)
	$(BIN)/python bench/dashboard.py

check: $(STAMP)
	$(BIN)/dgkb check

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
