# One entry point for a fresh machine: `make demo` (set up, then the main job) and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-slow bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first, pinned: pip takes the CPU wheel from local disk; the range in pyproject is then satisfied.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev,dcs,ray,plots,paper]'
	touch $(STAMP)

setup: $(STAMP)

# the quickstart experiment: 20 small runs on PointMass, a summary table and a figure (<= 5 min on 2 cores)
demo: setup
	$(BIN)/identlam run experiments/quickstart.toml --workers 2 --out results/quickstart

# tiny models: one BLAS/torch thread each is fastest and keeps timings stable on shared cores, so
# the suite runs one pytest worker per core instead (pytest-xdist; a module's tests stay on one
# worker, which builds its module fixtures once)
PYTEST := OMP_NUM_THREADS=1 $(BIN)/python -m pytest -q -n auto --dist loadscope

test: setup
	$(PYTEST)

test-slow: setup
	$(PYTEST) -m slow

bench: setup
	for f in benchmarks/*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) demo results
