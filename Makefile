# `make demo`, and two test tiers (DESIGN, "How we write it"): `make test-fast` (ruff, then every module's unit
# tests: -m "not slow", < 2 min on 2 cores) and `make test` (ruff, then everything: what .ci/run calls).
# Each creates .venv and installs first.
PYTHON     ?= python3
VENV       ?= .venv
# Torch is installed first and pinned: an unpinned `torch` pulls gigabytes of CUDA wheels.
TORCH_SPEC ?= torch==2.13.0
DEMO_OUT   ?= demo-output
# pytest-xdist workers for `make test` and `make test-fast` (0: one process). Whole files go to a worker
# (--dist loadfile): a module's fixtures (trained runs, a Dask cluster, the README's ordered commands) are built once.
WORKERS    ?= 2
XDIST      := -n $(WORKERS) --dist loadfile

BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install demo test test-fast lint bench clean

install: $(STAMP)

# setuptools >= 77 reads the SPDX license string; the offline wheel build of tests/test_install.py uses this venv's
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip "setuptools>=77" wheel
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/statmech-nn validate soc_mnist5k --out $(DEMO_OUT)/soc_mnist5k
	@echo "open $(DEMO_OUT)/soc_mnist5k/report.html"

lint: $(STAMP)
	$(BIN)/ruff check .

test-fast: lint
	$(BIN)/python -m pytest -q -m "not slow" $(XDIST)

test: lint
	$(BIN)/python -m pytest -q $(XDIST) --durations=10

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do PYTHONPATH=benchmarks:tests $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .hypothesis
