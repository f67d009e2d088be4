# Timbre: `make run` sets up and starts the app; `make test` sets up and runs every test.
#
# TORCH_SPEC picks the torch requirement installed before everything else. The default, `torch`,
# gets PyPI's build (CUDA on Linux). On a machine without a GPU, install the CPU build instead:
#     make run TORCH_SPEC=torch==2.13.0          (our dev and CI machines ship it as 2.13.0+cpu)
#     make run TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cpu"

PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export HF_HUB_DISABLE_PROGRESS_BARS := 1

.PHONY: run test bench lint format clean setup setup-test

$(PY):
	$(PYTHON) -m venv $(VENV)

# The stamp files make the install happen once, and again whenever pyproject.toml changes.
$(VENV)/.stamp-run: pyproject.toml | $(PY)
	$(PIP) install --quiet $(TORCH_SPEC)
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(PY)
	$(PIP) install --quiet $(TORCH_SPEC)
	$(PIP) install --quiet -e ".[test]"
	touch $@ $(VENV)/.stamp-run

setup: $(VENV)/.stamp-run
setup-test: $(VENV)/.stamp-test

run: $(VENV)/.stamp-run
	@./scripts/ensure-portaudio.sh
	$(VENV)/bin/timbre

test: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m pytest -q

bench: $(VENV)/.stamp-test
	HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 $(PY) -m bench

lint: $(VENV)/.stamp-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

format: $(VENV)/.stamp-test
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
