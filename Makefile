# Two commands do everything on a fresh machine with Python 3.11:
#   make demo   fixture outlets on loopback → full pipeline → SQLite warehouse → summary
#   make test   the test suite (SQLite, PostgreSQL at 127.0.0.1:5432, Airflow)
# and `make airflow` runs Airflow with the project's DAGs on http://127.0.0.1:8080 (AIRFLOW_PORT), offline;
# `make airflow-celery` the same with the CeleryExecutor and 2 workers (WORKERS), PostgreSQL metadata and Redis
# on this machine and runs in an S3-compatible store on loopback; Ctrl-C stops either.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
export NEWSETL_DATA_DIR ?= $(CURDIR)/data
AIRFLOW_PORT ?= 8080

WORKERS ?= 2

.PHONY: demo airflow airflow-celery test lint clean

$(VENV)/.installed: pyproject.toml sandbox/pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "news-etl needs Python 3.11, found " + sys.version.split()[0]'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]' -e ./sandbox  # the product, and the sandbox beside it (dev and tests)
	@touch $@

demo: $(VENV)/.installed
	$(BIN)/newsetl demo

airflow: $(VENV)/.installed
	$(BIN)/newsetl airflow --port $(AIRFLOW_PORT)

airflow-celery: $(VENV)/.installed
	$(BIN)/newsetl airflow --port $(AIRFLOW_PORT) --executor celery --workers $(WORKERS) --object-store

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q -p no:cacheprovider

lint: $(VENV)/.installed
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data build *.egg-info
