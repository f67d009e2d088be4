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
	@echo "==> Creating the virtual environment in $(VENV)"
	$(PYTHON) -m venv $(VENV)

# The stamp files make the install happen once, and again whenever pyproject.toml changes.
# Installs show pip's own progress: the first one downloads torch and friends (minutes, several GB
# with a CUDA build).
$(VENV)/.stamp-run: pyproject.toml | $(PY)
	@echo "==> [1/2] Installing torch ($(TORCH_SPEC)): the largest download, it can take minutes"
	$(PIP) install --progress-bar on $(TORCH_SPEC)
	@echo "==> [2/2] Installing Timbre and its dependencies into $(VENV)"
	$(PIP) install --progress-bar on -e .
	@echo "==> Installed. The command is $(VENV)/bin/timbre (or: source $(VENV)/bin/activate, then timbre)"
	touch $@

$(VENV)/.stamp-test: pyproject.toml | $(PY)
	@echo "==> [1/2] Installing torch ($(TORCH_SPEC)): the largest download, it can take minutes"
	$(PIP) install --progress-bar on $(TORCH_SPEC)
	@echo "==> [2/2] Installing Timbre with its test tools into $(VENV)"
	$(PIP) install --progress-bar on -e ".[test]"
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
