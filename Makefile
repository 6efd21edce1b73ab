# crossmodal: every command sets up what it needs (a local .venv) on a fresh machine.
#   make results  - regenerate every results table (papers/) and the docs site, default CPU scale, embedded data
#   make test     - the whole test suite: repo checks, every notebook, docs build + browser check
#   make bench    - benchmarks -> outputs/bench/<name>.json
#   make lab      - JupyterLab on the notebooks (nbs/), http://127.0.0.1:8888, the venv's kernel
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export MPLBACKEND ?= Agg
export PYTHONWARNINGS ?= ignore::DeprecationWarning

.PHONY: help venv test test-slow results experiments sweeps publish docs docs-check lab lab-check bench chromium clean

help:
	@sed -n '1,5p' Makefile

venv: $(STAMP)
$(STAMP): setup.py settings.ini
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip wheel
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (crossmodal)" >/dev/null
	touch $(STAMP)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || { echo "installing chromium for the site check"; \
	  ($(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium >/dev/null) \
	  || { echo "could not install chromium: run 'sudo apt-get install chromium'"; exit 1; }; }

# ---- tests -------------------------------------------------------------------------------------------
# Tests never log to Weights & Biases; experiments run by `make results` log offline (outputs/<system>/<run>/wandb).
test test-slow: export CROSSMODAL_TRACKING = disabled
test: venv
	$(PY) tools/check_repo.py
	$(PY) tools/run_notebooks.py
	$(PY) tools/test_sweep.py
	$(PY) tools/test_configurations.py
	$(MAKE) --no-print-directory docs-check
	$(MAKE) --no-print-directory lab-check

test-slow: venv
	$(PY) tools/run_notebooks.py --flags "slow"

# ---- results -----------------------------------------------------------------------------------------
experiments: venv
	$(PY) tools/run_experiment.py --all

# Second configurations of experiment notebooks (tools/configurations.yaml; `make test` runs each at the smoke scale):
# each writes its own prefixed tables, published beside the default run.
#   avigate_extended (nbs/30, ~13 min CPU): the default recipe with 5 seeds and 20 epochs, every variant -> extended_*
#   classifier_lora (nbs/40, ~3 min CPU): LoRA on the vision tower vs the same tower frozen -> lora_*
#   toconv_overlap (nbs/50, ~3 min CPU): the overlapping compressor vs average pooling -> overlap_*
sweeps: venv
	$(PY) tools/sweep_poly_pcme.py
	$(PY) tools/run_experiment.py --configurations

publish: venv
	$(PY) -m crossmodal.results

results: experiments sweeps publish
	$(PY) tools/run_notebooks.py --skip '^([1-9]0_|09_demo)'
	$(MAKE) --no-print-directory docs
	@echo "tables: papers/*/   site: _build/site/index.html"

# ---- docs --------------------------------------------------------------------------------------------
docs: venv
	$(PY) tools/build_docs.py

docs-check: docs chromium
	$(PY) tools/check_site.py

# ---- JupyterLab ----------------------------------------------------------------------------------------
# The venv's kernelspec ("Python 3 (crossmodal)", registered by `make venv`) comes before any user-level one.
LAB_PORT ?= 8888
lab: venv
	JUPYTER_PREFER_ENV_PATH=1 $(VENV)/bin/jupyter lab --ip 127.0.0.1 --port $(LAB_PORT) --no-browser --ServerApp.root_dir=nbs $(if $(filter 0,$(shell id -u)),--allow-root,)

# JupyterLab in headless Chromium: runs a notebook with a widget, checks the venv's kernel; _build/lab/jupyterlab.png
lab-check: venv chromium
	$(PY) tools/check_lab.py

# ---- benchmarks --------------------------------------------------------------------------------------
bench: venv
	@for b in benchmarks/*.py; do echo "== $$b"; $(PY) $$b; done

clean:
	rm -rf _build _proc _docs
