# The README's commands. Everything runs from the virtualenv in .venv/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)
HOST ?= 127.0.0.1:8000

.PHONY: install demo serve test lint format bench worker beat clean

$(STAMP): requirements.lock
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## make demo: install, migrate, seed the demo county and serve http://127.0.0.1:8000
demo: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py runserver $(HOST)

## make test: install and run the whole suite (SQLite, or PostgreSQL when DATABASE_URL is set)
test: install lint
	$(BIN)/python -m pytest

## make lint: ruff, the migrations check and the layers contract (import-linter, see docs/architecture.md)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-cache --no-logo

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make bench: run the benchmarks under bench/ and append their figures to bench/results.md
bench: install
	@failed=""; for script in bench/*_bench.py; do [ -e "$$script" ] || continue; \
		echo "== $$script (load average: $$(cut -d' ' -f1-3 /proc/loadavg))"; \
		$(BIN)/python "$$script" || failed="$$failed $$script"; done; \
		if [ -n "$$failed" ]; then echo "benches that missed a target or failed:$$failed"; exit 1; fi

worker: install
	$(BIN)/celery -A inservice worker --queues=celery,imports --loglevel=info

beat: install
	$(BIN)/celery -A inservice beat --loglevel=info

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache .ruff_cache
