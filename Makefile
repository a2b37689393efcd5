# One entry point for people and CI:
#   make run    set up the environment, then run the whole pipeline (dvc repro)
#   make test   set up the environment, then run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# Stage commands say `python`, `dvc`, `mlflow`: they must find the project's environment first.
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: setup setup-gpu run test ui lock

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# On a machine with an NVIDIA GPU: TensorFlow's CUDA libraries from PyPI.
setup-gpu: setup
	$(BIN)/pip install --quiet -e '.[gpu]'

run: setup
	dvc repro

test: setup
	pytest

ui: setup
	mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host 127.0.0.1 --port 5000

# Re-resolve the pins after changing dependencies in pyproject.toml.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet -e '.[test]'
	{ echo "# Exact pins for every dependency (pip freeze of a resolved environment, Python 3.11)."; \
	  echo "# Regenerate with: make lock"; \
	  .lockenv/bin/pip freeze --exclude-editable | grep -v '^sunspotter'; } > requirements.lock
	rm -rf .lockenv
