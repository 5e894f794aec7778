# Two commands: `make demo` and `make test`. Both create .venv and install first.
PYTHON     ?= python3
VENV       ?= .venv
# Torch is installed first and pinned: an unpinned `torch` pulls gigabytes of CUDA wheels.
TORCH_SPEC ?= torch==2.13.0
DEMO_OUT   ?= demo-output

BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: install demo test bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "$(TORCH_SPEC)"
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/statmech-nn validate soc_mnist5k --out $(DEMO_OUT)/soc_mnist5k
	@echo "open $(DEMO_OUT)/soc_mnist5k/report.html"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in benchmarks/bench_*.py; do PYTHONPATH=benchmarks:tests $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) .pytest_cache .hypothesis
