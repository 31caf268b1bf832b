# The README's commands. Everything runs from the virtualenv in .venv/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cksum requirements.lock | cut -d' ' -f1)
HOST ?= 127.0.0.1:8000

.PHONY: install demo serve test quick journeys lint format bench worker beat backup restore rehearse clean

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

## make test: install, lint and run the whole suite (SQLite, or PostgreSQL when DATABASE_URL is set):
## make quick and make journeys in one run, on WORKERS pytest-xdist workers, each with its own test
## database (test_<name>_gw0, …), media root and cache key prefix (tests/conftest.py)
WORKERS ?= auto
QUICK := not e2e and not integration and not live
test: install lint
	$(BIN)/python -m pytest -n $(WORKERS)

## make quick: the tests that need no browser, port, worker or process of their own (about a minute)
quick: install
	$(BIN)/python -m pytest -n $(WORKERS) -m "$(QUICK)"

## make journeys: the rest of make test, beside quick: browser (e2e), service (integration) and live
journeys: install
	$(BIN)/python -m pytest -n $(WORKERS) -m "not ($(QUICK))"

## make lint: ruff, the migrations check and the layers contract (import-linter, see docs/architecture.md)
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-cache --no-logo

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## make bench: run every benchmark under bench/ (each builds its own data; the national set is
## written once into bench/data/) and append their figures to bench/results.md.
## BENCH_SCALE=0.1 make bench: a quick check at a tenth of the size (not the figures of record).
bench: install
	@failed=""; all=$$(date +%s); for script in bench/*_bench.py; do [ -e "$$script" ] || continue; \
		echo "== $$script (load average: $$(cut -d' ' -f1-3 /proc/loadavg))"; started=$$(date +%s); \
		$(BIN)/python "$$script" || failed="$$failed $$script"; \
		echo "== $$script took $$(( $$(date +%s) - started )) s"; done; \
		echo "== make bench took $$(( $$(date +%s) - all )) s"; \
		if [ -n "$$failed" ]; then echo "benches that missed a target or failed:$$failed"; exit 1; fi

worker: install
	$(BIN)/celery -A inservice worker --queues=celery,imports --loglevel=info

## make beat: the schedule file goes to var/state/ (settings.STATE_DIR), not the repository root
beat: install
	$(BIN)/celery -A inservice beat --loglevel=info

# Inside the image there is no .venv: the image's python.
RUN_PYTHON := $(if $(wildcard $(BIN)/python),$(BIN)/python,python)

## make backup: pg_dump (custom format) of DATABASE_URL + the media root without transient/, into
## $(BACKUP_DIR)/inservice-<UTC time>/ (docs/operations.md; the national-ID keys are kept offline)
BACKUP_DIR ?= backups
backup:
	$(RUN_PYTHON) -m deploy.backup backup --out $(BACKUP_DIR)

## make restore BACKUP=backups/inservice-…: into an empty DATABASE_URL database and an empty media root
restore:
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=backups/inservice-<time>"; exit 2; }
	$(RUN_PYTHON) -m deploy.backup restore $(BACKUP)

## make rehearse: docker-compose.yml's services as processes + the smoke journey (DATABASE_URL, REDIS_URL)
rehearse: install
	$(BIN)/python -m deploy.rehearse

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-wal db.sqlite3-shm staticfiles .pytest_cache .ruff_cache
