# Build and test harness for replicator.
#
#   make test [PYTEST_ARGS=...]   the test suite against throwaway servers, long runs aside
#   make test-slow                the long fault and load runs (marker slow); CI runs both
#   make demo                     run the end-to-end demo
#   make bench                    the benchmark: table on stdout, bench/results.json
#   make bench-table              the README's performance table, made from bench/results.json
#   make bench-smoke              the benchmark at toy sizes (CI)
#   make lint                     ruff + mypy + the import and size rules (devtools/check_*.py)
#   make golden                   rewrite the golden files from current output
#   make clean                    remove the venv and build leftovers

SHELL  := /bin/bash
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PYTEST_ARGS ?=

# Debian's PostgreSQL 15 layout; devtools.throwaway looks here too.
PG_BIN := /usr/lib/postgresql/15/bin
PG_LIB := /usr/lib/postgresql/15/lib

# apt needs root; CI runs as root, developers may not.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install postgres test test-slow demo bench bench-table bench-smoke lint golden clean

# The venv, rebuilt whenever pyproject.toml changes (the stamp file is what
# make tracks; `make .venv` works as a shorthand).
# editable_mode=strict: pyproject maps top-level sql/ and templates/ into the
# package, which setuptools' default (lenient) editable mode does not honour.
.venv: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml
	@# Debian's python3 ships without ensurepip until python3-venv is installed.
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || { \
	    $(SUDO) apt-get update -qq && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -U pip
	@# pyproject's build requirements, so `install` can skip build isolation.
	$(BIN)/pip install -q 'setuptools>=68' wheel
	$(BIN)/pip install -e '.[test,lint]' --config-settings editable_mode=strict
	touch $@

# A strict editable install links each module file individually, so modules
# added since the venv was built are invisible until we re-run it. --no-deps
# and --no-build-isolation keep it to about a second; its build warnings go
# to a log that is shown only if it fails.
install: $(VENV)/.installed
	@$(BIN)/pip install --no-deps --no-build-isolation -e . \
	    --config-settings editable_mode=strict -q >$(VENV)/install.log 2>&1 \
	    || { cat $(VENV)/install.log; exit 1; }

# PostgreSQL 15 and wal2json from Debian, only if missing (a fresh CI machine).
postgres:
	@if [ ! -x $(PG_BIN)/postgres ] || [ ! -f $(PG_LIB)/wal2json.so ]; then \
	    echo "Installing postgresql-15 and postgresql-15-wal2json"; \
	    $(SUDO) apt-get update && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y \
	        postgresql-15 postgresql-15-wal2json; \
	fi

# pytest exits 5 when it collected nothing (a typo in PYTEST_ARGS, a broken
# conftest); that must be a loud failure, never a quiet "nothing to do".
PYTEST = rc=0; $(BIN)/pytest -q $(1) $(PYTEST_ARGS) || rc=$$?; \
	if [ $$rc -eq 5 ]; then \
	    echo "ERROR: pytest collected no tests (exit 5); treating as failure." >&2; \
	fi; \
	exit $$rc

# make test spreads its tests over three pytest-xdist workers (each with its own
# servers and templates; on two cores a third keeps them busy while tests wait on
# PostgreSQL); TEST_WORKERS=0 runs them in one process.
TEST_WORKERS ?= 3

test: postgres install
	@$(call PYTEST,-m "not slow" -n $(TEST_WORKERS))

test-slow: postgres install
	@$(call PYTEST,-m slow)

demo: postgres install
	$(BIN)/python -m devtools.demo

# The figures of the README's performance section; BENCH_SECTIONS (e.g. 2,3,6) runs
# only those and the sections they need; BENCH_ROWS, BENCH_BIG_ROWS, BENCH_WAL_ROWS,
# BENCH_VERIFY_ROWS, BENCH_SUSTAINED_SECONDS and BENCH_REPEAT scale it. Writes
# bench/results.json (BENCH_RESULTS elsewhere); `make bench-table` then puts it in
# the README. BENCH_COMMAND is how results.json says it was made.
bench: postgres install
	BENCH_COMMAND="make bench" $(BIN)/python -m bench.run

bench-table: install
	$(BIN)/python -m bench.table

# The same harness at toy sizes, so CI notices when it breaks (figures meaningless).
bench-smoke: postgres install
	BENCH_ROWS=200 BENCH_BIG_ROWS=1000 BENCH_WAL_ROWS=2000 BENCH_VERIFY_ROWS=2000 BENCH_REPEAT=1 BENCH_LATENCY_SECONDS=1 \
	    BENCH_WRITER_SECONDS=1 BENCH_SUSTAINED_SECONDS=3 BENCH_RESULTS=/tmp/replicator-bench-smoke.json \
	    BENCH_COMMAND="make bench-smoke" $(BIN)/python -m bench.run

lint: install
	$(BIN)/ruff check replicator devtools tests bench
	$(BIN)/mypy
	$(BIN)/python -m devtools.check_imports replicator
	$(BIN)/python -m devtools.check_sizes replicator

golden: postgres install
	REPLICATOR_UPDATE_GOLDEN=1 $(BIN)/pytest -q tests/test_golden.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
