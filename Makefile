# One entry point for people and CI:
#   make run    set up the environment, run the whole pipeline (dvc repro), then the behavioural tests
#               on the model it made (tests/model): a behaviour broken fails the run
#   make test   set up the environment, then run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(abspath $(VENV))/bin
# Stage commands say `python`, `dvc`, `mlflow`: they must find the project's environment first.
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1

.PHONY: setup setup-gpu system-libs run test check-model ui lock device-wheels

PLOTS_TEMPLATE := $(VENV)/dvc_plots_template.html

setup: system-libs $(VENV)/.installed $(PLOTS_TEMPLATE)

# JPEG2000 images (Helioviewer) decode through the OpenJPEG shared library (Debian: libopenjp2-7); the tests open
# the plots page and predict's contact sheet in headless Chromium (Debian: chromium). Each is installed with apt
# when missing and allowed (root, or sudo without a password); otherwise a warning: JPEG2000 input does not
# decode, the browser tests are skipped, and everything else works.
APT = if [ "$$(id -u)" = 0 ]; then apt=apt-get; elif sudo -n true 2>/dev/null; then apt="sudo -n apt-get"; fi; \
	if [ -n "$$apt" ]; then $$apt install -y -qq $(1) >/dev/null 2>&1 || \
	  { $$apt update -qq >/dev/null 2>&1 && $$apt install -y -qq $(1) >/dev/null 2>&1; }; fi
system-libs:
	@ldconfig -p 2>/dev/null | grep -q libopenjp2 || { $(call APT,libopenjp2-7); \
	  ldconfig -p 2>/dev/null | grep -q libopenjp2 || \
	    echo "warning: OpenJPEG (libopenjp2-7) is not installed: JPEG2000 input will not decode; install it with apt"; }
	@command -v chromium >/dev/null || { $(call APT,chromium); \
	  command -v chromium >/dev/null || \
	    echo "warning: Chromium is not installed: the browser tests will be skipped; install it with apt"; }

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

# `dvc plots show` / `dvc plots diff` pages that draw offline: DVC's own page loads Vega from a CDN. The template
# inlines the scripts the vl-convert-python wheel carries; DVC finds it through .dvc/config.local.
$(PLOTS_TEMPLATE): $(VENV)/.installed
	$(BIN)/python -m sunspotter.evaluation.plots_page $@
	$(BIN)/dvc config --local plots.html_template $(abspath $@)

# On a machine with an NVIDIA GPU: TensorFlow's CUDA libraries from PyPI.
setup-gpu: setup
	$(BIN)/pip install --quiet -e '.[gpu]'

run: setup
	dvc repro
	SUNSPOTTER_MODEL=pipeline pytest tests/model -p no:cacheprovider

test: setup
	pytest

# The lent GPU machine (Python 3.12, JAX, no TensorFlow, no package index) lacks Keras and astropy: their wheels, at
# requirements.lock's versions, into .whl/ (git-ignored) for the device tool to carry (bench/README.md, GPU).
DEVICE_WHEELS := keras namex optree astropy pyerfa astropy-iers-data
device-wheels: setup
	grep -iE '^($(subst $(eval) ,|,$(DEVICE_WHEELS)))==' requirements.lock > .whl.txt
	$(BIN)/pip download --quiet --only-binary=:all: --no-deps --python-version 3.12 --platform manylinux_2_28_x86_64 \
	  --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d .whl -r .whl.txt
	rm .whl.txt

# Does the registered localizer carry itself? A fresh virtual environment built from the model's own record only
# (its python_env.yaml and requirements.txt) loads it and must give this environment's masks. Reads the registry and
# installs from the package index, so it is not part of `make test`. MODEL=URI checks another model.
check-model: setup
	python -m sunspotter.lifecycle.check_model $(if $(MODEL),--model $(MODEL))

# Loopback only unless told otherwise (make ui UI_HOST=0.0.0.0): the UI has no authentication.
UI_HOST ?= 127.0.0.1
UI_PORT ?= 5000
ui: setup
	mlflow ui --backend-store-uri sqlite:///$(CURDIR)/mlflow.db --host $(UI_HOST) --port $(UI_PORT)

# Pin a dependency added to pyproject.toml: the existing pins are constraints, so only the new package (and
# what it needs that is not pinned yet) is resolved; TensorFlow, Keras, MLflow and the rest stay where they are.
# A new package that needs another version of a pinned one fails here: move that pin by hand, on purpose.
lock:
	rm -rf .lockenv && $(PYTHON) -m venv .lockenv && .lockenv/bin/pip install --quiet --upgrade pip
	.lockenv/bin/pip install --quiet -c requirements.lock -e '.[test]'
	{ echo "# Exact pins for every dependency (pip freeze of a resolved environment, Python 3.11)."; \
	  echo "# Regenerate with: make lock (keeps every existing pin; see the Makefile)"; \
	  .lockenv/bin/pip freeze --exclude-editable | grep -v '^sunspotter'; } > requirements.lock
	rm -rf .lockenv
