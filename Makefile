# Courtier: `make run` sets everything up and serves the demo; `make test` runs the test suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install check clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# Embedded default: SQLite file, Celery eager, e-mail on the console, served over plain HTTP locally.
run: install
	SECURE_HTTPS=false $(BIN)/python manage.py migrate --noinput --verbosity 0
	SECURE_HTTPS=false $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	SECURE_HTTPS=false $(BIN)/python manage.py seed_demo
	@echo ""
	@echo "Courtier is served on http://$(HOST):$(PORT)/  (admin: /admin/, API docs: /api/docs/)"
	@echo ""
	SECURE_HTTPS=false $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install
	$(BIN)/pytest

check: install
	$(BIN)/ruff check .
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
