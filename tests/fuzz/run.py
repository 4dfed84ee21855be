"""Property-based fuzzing of the live API with schemathesis: ``python -m tests.fuzz.run``.

Creates a database of its own (``FUZZ_DB_NAME``, default ``procurement_fuzz``, on the server of
``DATABASE_URL``), migrates and seeds it (``tests.fuzz.seed``), starts gunicorn on it with
``gunicorn.conf.py``, and runs ``st run`` on ``/api/schema`` with ``tests/fuzz/schemathesis.toml``:
every operation, every phase (examples, coverage, fuzzing, stateful). The exit status is
schemathesis' own (non-zero on any finding), or 1 when the server logged an error that no check
saw. The server is stopped and the database dropped afterwards (unless ``--keep-db``).

    FUZZ_EXAMPLES   examples per operation and phase (default 100)
    FUZZ_SEED       the random seed, to replay a run (default: a new one, printed)
    FUZZ_WORKERS    schemathesis workers (default 2)

Anything after ``--`` goes to ``st run`` as is, e.g. ``-- --phases fuzzing --include-path
/suppliers``. The JUnit report, the server's log and the examples database (failures found are
replayed first next time) go to ``var/fuzz/``.
"""

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

from tests.servers import free_port, server_env

BASE_DIR = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).with_name("schemathesis.toml")
REPORT_DIR = BASE_DIR / "var" / "fuzz"
BIN = Path(sys.executable).parent


def main(argv=None):
    args = _parse(argv)
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith(("postgres://", "postgresql://")):
        print("tests.fuzz.run: DATABASE_URL must name the PostgreSQL server.", file=sys.stderr)
        return 2
    database_url = _with_database(base_url, args.db_name)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    _recreate_database(base_url, args.db_name)
    try:
        token = _migrate_and_seed(database_url)
        return _run_against_server(database_url, token, args)
    finally:
        if not args.keep_db:
            _drop_database(base_url, args.db_name)


def _parse(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.run", description=__doc__)
    parser.add_argument(
        "--max-examples", type=int, default=int(os.environ.get("FUZZ_EXAMPLES", "100"))
    )
    parser.add_argument("--seed", type=int, default=_int_or_none(os.environ.get("FUZZ_SEED")))
    parser.add_argument("--workers", default=os.environ.get("FUZZ_WORKERS", "2"))
    parser.add_argument("--db-name", default=os.environ.get("FUZZ_DB_NAME", "procurement_fuzz"))
    parser.add_argument(
        "--keep-db", action="store_true", help="leave the database for a look afterwards"
    )
    parser.add_argument("st_args", nargs=argparse.REMAINDER, help="after --: passed to st run")
    args = parser.parse_args(argv)
    if args.st_args[:1] == ["--"]:
        args.st_args = args.st_args[1:]
    if args.seed is None:
        args.seed = secrets.randbelow(2**31)
    return args


def _int_or_none(value):
    return int(value) if value else None


# --- The database ------------------------------------------------------------------------------


def _with_database(url, name):
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(url):
    return psycopg.connect(_with_database(url, "postgres"), autocommit=True)


def _recreate_database(url, name):
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop_database(url, name):
    with _admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate_and_seed(database_url):
    """Migrate and seed in a child process configured for the fuzz database; returns the token."""
    env = _django_env(database_url)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    seeded = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", "from tests.fuzz.seed import main; main()"],
        cwd=BASE_DIR,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return seeded.stdout.strip().splitlines()[-1]


def _django_env(database_url, **extra):
    # Schemathesis sends writes as fast as the server answers, from one user: no write limit
    # (tests/api/test_write_limit.py covers it).
    return server_env(database_url, **{"DB_POOL": "0", "API_WRITE_RATE": "", **extra})


# --- The server and the run ----------------------------------------------------------------


def _run_against_server(database_url, token, args):
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    env = _django_env(
        database_url,
        DB_POOL="1",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE="4",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        LOG_LEVEL="WARNING",
    )
    log_path = REPORT_DIR / "server.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(  # noqa: S603 (the venv's gunicorn, fixed arguments)
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_up(f"{origin}/readyz", server)
        started = time.monotonic()
        status = _schemathesis(origin, token, args)
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    server_errors = _server_errors(log_path)
    if server_errors:
        print("\nThe server logged errors:", *server_errors[:20], sep="\n  ", file=sys.stderr)
        status = status or 1
    print(
        f"\nfuzz: seed {args.seed}, {args.max_examples} examples per operation, "
        f"{elapsed:.0f}s; exit status {status}. Server log: {log_path}"
    )
    return status


def _wait_until_up(url, server, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}; see {REPORT_DIR}")
        with suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
            if response.status == 200:
                return
        time.sleep(0.25)
    raise RuntimeError(f"the server did not answer {url} within {seconds}s")


def _schemathesis(origin, token, args):
    command = [
        str(BIN / "st"),
        "--config-file",
        str(CONFIG),
        "run",
        f"{origin}/api/schema",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        str(args.workers),
        # Failing examples are kept and replayed first by the next run.
        "--generation-database",
        str(REPORT_DIR / "examples"),
        *args.st_args,
    ]
    env = {
        **os.environ,
        "FUZZ_API_TOKEN": token,
        "FUZZ_REPORT_DIR": str(REPORT_DIR),
        # The hooks module (tests.fuzz.hooks) is imported by name.
        "PYTHONPATH": os.pathsep.join(filter(None, [str(BASE_DIR), os.environ.get("PYTHONPATH")])),
    }
    if shutil.which("st", path=str(BIN)) is None:
        raise RuntimeError(f"schemathesis is not installed in {BIN}")
    return subprocess.run(command, cwd=BASE_DIR, env=env, check=False).returncode  # noqa: S603


def _server_errors(log_path):
    """Lines of the server log at level ERROR or above: a 5xx, or a traceback."""
    errors = []
    for line in log_path.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        status = record.get("status")
        if record.get("level") in ("ERROR", "CRITICAL") or (
            isinstance(status, int) and status >= 500
        ):
            errors.append(line[:2000])
    return errors


if __name__ == "__main__":
    sys.exit(main())
