# The two commands of the quick start: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
WORKERS ?= 2
FLASK  := $(BIN)/flask --app wsgi

.PHONY: run test install translations bench clean

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(BIN)/.installed translations

# Compiled message catalogues (.mo) are built, not committed.
translations: $(BIN)/.installed
	$(BIN)/pybabel compile -d ledger/translations

run: install
	$(FLASK) db upgrade
	$(FLASK) ledger areas import
	PORT=$(PORT) $(FLASK) ledger user ensure-admin
	$(FLASK) ledger receipts issue-missing
	$(FLASK) ledger keys show
	@echo "Serving on http://127.0.0.1:$(PORT)  (API docs: http://127.0.0.1:$(PORT)/api/v1/docs)"
	LEDGER_PUBLIC_URL=$${LEDGER_PUBLIC_URL:-http://127.0.0.1:$(PORT)} \
	  $(BIN)/gunicorn --workers $(WORKERS) --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

test: install
	$(BIN)/pytest

# The whole suite (bench/run.py): SCALE=small (default, minutes), medium, or full (hours).
bench: install
	$(BIN)/python bench/run.py --scale $(or $(SCALE),small)

clean:
	rm -rf $(VENV) *.egg-info .pytest_cache
