# Two entry points for a fresh machine: `make demo` and `make test`.
# Both create the virtualenv on first use (python3 -m venv + pip install -e '.[dev]').
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# xdist workers for `make test`: the soak takes one, the rest of the suite the other (2 cores in CI).
TEST_WORKERS ?= 2

.PHONY: demo test lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/pracsuite demo

# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: both workers and the tests' dozens of
# child interpreters (CLI, benchmarks, docs) would otherwise recompile the package and the tests each time.
test: $(VENV)/.installed
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -q -n $(TEST_WORKERS) --dist worksteal

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m mypy --strict pracsuite_async

bench: $(VENV)/.installed
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
