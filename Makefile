# The whole set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/procurement
# The suite runs with production-like settings (DEBUG off) on PostgreSQL, without collectstatic:
# static files are served from the apps under their plain names (WHITENOISE_USE_FINDERS).
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) DJANGO_DEBUG=0 DJANGO_SECRET_KEY=test-only-secret-key \
	DJANGO_SECURE_SSL_REDIRECT=0 DJANGO_ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	WHITENOISE_USE_FINDERS=1

.PHONY: install run test fuzz lint format check-deploy backup restore test-ops

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Without DATABASE_URL: the embedded SQLite database, with the demo data (seed_demo) loaded the
# first time, while it is empty; seed_demo prints the demo logins then.
# The background worker (webhook deliveries, event publishing) runs beside the development server
# and stops with it. Development only: webhooks may target http and local addresses
# (WEBHOOK_ALLOW_PRIVATE_URLS=1 unless set otherwise).
RUN_ENV := DJANGO_DEBUG=$${DJANGO_DEBUG:-1} WEBHOOK_ALLOW_PRIVATE_URLS=$${WEBHOOK_ALLOW_PRIVATE_URLS:-1}
run: install
	@mkdir -p var
	$(RUN_ENV) $(PY) manage.py migrate --no-input
	@$(RUN_ENV) $(PY) manage.py seed_demo --embedded-only
	@echo "Admin console: http://127.0.0.1:8000/admin/  (API docs: http://127.0.0.1:8000/api/docs)"
	@echo "Background worker: manage.py db_worker (stops with the server)"
	@$(RUN_ENV) $(PY) manage.py db_worker --no-reload & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:8000

# pytest on PostgreSQL; then the tests marked `sqlite` on SQLite, the database of `make run`
# (DATABASE_URL empty, an in-memory test database; SQLITE=0 skips them); then the schemathesis
# pass on a live server (FUZZ=0 skips it; see `fuzz`).
test: install
	$(TEST_ENV) $(PY) -m pytest $(PYTEST_ARGS)
	@if [ "$(SQLITE)" != 0 ]; then $(TEST_ENV) DATABASE_URL= $(PY) -m pytest -m sqlite; fi
	@if [ "$(FUZZ)" != 0 ]; then $(TEST_ENV) $(PY) -m tests.fuzz.run; fi

# Property-based fuzzing of the live API alone (gunicorn on a database of its own), with more
# examples per operation than `make test`: make fuzz [FUZZ_EXAMPLES=1000] [FUZZ_SEED=123]
# [FUZZ_ARGS="--phases stateful"]. Reports and the server log: var/fuzz/.
FUZZ_EXAMPLES ?= 500
fuzz: install
	$(TEST_ENV) $(PY) -m tests.fuzz.run --max-examples $(FUZZ_EXAMPLES) -- $(FUZZ_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-deploy: install
	DJANGO_DEBUG=0 DJANGO_SECRET_KEY=$${DJANGO_SECRET_KEY:-$$(openssl rand -hex 32)} \
		DJANGO_ALLOWED_HOSTS=procurement.example.com $(PY) manage.py check --deploy --fail-level WARNING

# A backup of the configured database (DATABASE_URL) into BACKUP_DIR (default ./backups).
backup: install
	$(PY) manage.py backup_database

# make restore FILE=backups/procurement-20260101T020000Z.dump [RESTORE_ARGS="--database-url ... --force"]
restore: install
	@test -n "$(FILE)" || { echo "usage: make restore FILE=path/to/procurement-....dump"; exit 2; }
	$(PY) manage.py restore_database "$(FILE)" $(RESTORE_ARGS)

# The operations tests: backups, restores, outage against a real server, settings, logs.
test-ops: install
	$(TEST_ENV) $(PY) -m pytest tests/site $(PYTEST_ARGS)

# The benchmark (docs/benchmark.md): the app against its floor and a plain DRF baseline, on a
# fresh database procurement_bench, about 5 minutes. BENCH_ARGS="--duration 20 --scale 10" etc.
BENCH_SERVER_URL ?= postgres://postgres@127.0.0.1:5432
.PHONY: bench
$(VENV)/.installed-bench: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench
	@command -v wrk >/dev/null 2>&1 || { \
		echo "wrk is not installed: installing Debian's package (apt-get install -y wrk)"; \
		{ apt-get install -y -q wrk || { apt-get update -q && apt-get install -y -q wrk; }; } \
			>/dev/null 2>&1 || sudo -n apt-get install -y -q wrk >/dev/null 2>&1 || { \
			echo "Could not install wrk (needs root or sudo, and Debian's packages)."; \
			echo "Install it (apt-get install wrk, or build github.com/wg/wrk), then run make bench again."; \
			exit 1; }; }
	$(PY) -m bench.run --server-url $(BENCH_SERVER_URL) $(BENCH_ARGS)
