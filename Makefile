VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test test-all lint bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,projector]'
	touch $(STAMP)

# make demo DATA=DIR reads the data from DIR (default: ../shared/data); OVERWRITE=1 runs a finished demo again
demo: $(STAMP)
	@if [ -z "$(OVERWRITE)" ] && [ -f runs/demo/metrics.json ]; then \
		echo "runs/demo holds a finished demo: open runs/demo/report.html (make demo OVERWRITE=1 runs it again)"; \
	else \
		$(VENV)/bin/cordswivel demo --out runs/demo $(if $(DATA),--data-dir "$(DATA)") $(if $(OVERWRITE),--overwrite); \
	fi

test: $(STAMP)
	$(PY) -m pytest -q

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test-all: $(STAMP)
	$(PY) -m pytest -q -m ''

$(VENV)/.bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,projector,bench]'
	touch $(VENV)/.bench

bench: $(VENV)/.bench
	$(PY) benchmarks/bench_cooccur.py
	$(PY) benchmarks/bench_scale.py
	$(PY) benchmarks/bench_train.py
	$(PY) benchmarks/bench_train.py --full-size --epochs 1
	$(PY) benchmarks/bench_compare.py
	$(PY) benchmarks/bench_quality.py
	$(PY) benchmarks/bench_scicite.py
	$(PY) benchmarks/bench_serve.py
	$(PY) benchmarks/bench_analogies.py
	$(PY) benchmarks/bench_subwords.py

clean:
	rm -rf runs .pytest_cache
