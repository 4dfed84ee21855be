"""Backups of the service's schema with the PostgreSQL client tools, driven by Django's settings.

A backup is ``procurement-<UTC timestamp>.dump`` (``pg_dump`` custom format, schema
``procurement`` only) and ``<dump>.sha256`` beside it, in ``sha256sum -c`` format. Each appears
under its final name only once complete: it is written to a hidden ``.<name>.partial`` file,
flushed to disk and renamed, so a crash or a failed dump never leaves a file that looks finished.

The password goes to the tools in ``PGPASSWORD``, never on their command line (which other users
of the machine can read).
"""

import hashlib
import os
import re
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from shutil import which

import psycopg
from django.conf import settings
from django.core.management.base import CommandError
from psycopg.conninfo import make_conninfo

POSTGRESQL_ENGINE = "django.db.backends.postgresql"
PREFIX = "procurement"
_STAMP = r"\d{8}T\d{6}Z"
DUMP_NAME = re.compile(rf"{PREFIX}-{_STAMP}\.dump")
# Everything a run writes: dumps, checksums, and the hidden in-progress files of both.
OWN_FILE = re.compile(
    rf"{PREFIX}-{_STAMP}\.dump(\.sha256)?|\.{PREFIX}-{_STAMP}\.dump(\.sha256)?\.partial"
)
# libpq connection parameters Django's OPTIONS may carry that the tools need too.
LIBPQ_OPTIONS = (
    "sslmode",
    "sslrootcert",
    "sslcert",
    "sslkey",
    "sslcrl",
    "connect_timeout",
    "target_session_attrs",
    "service",
    "passfile",
)
_CHUNK = 1024 * 1024


@dataclass
class Backup:
    path: Path
    size: int
    sha256: str
    deleted: list[Path] = field(default_factory=list)


# --- Connection ------------------------------------------------------------------------------


def ensure_postgresql(settings_dict):
    engine = settings_dict.get("ENGINE", "")
    if engine != POSTGRESQL_ENGINE:
        raise CommandError(
            f"backups and restores need PostgreSQL; the database is configured with {engine!r} "
            "(set DATABASE_URL to a postgres:// URL)"
        )


def conninfo(settings_dict):
    """The libpq connection string of a Django database, without its password."""
    options = settings_dict.get("OPTIONS") or {}
    params = {
        "dbname": settings_dict.get("NAME"),
        "user": settings_dict.get("USER"),
        "host": settings_dict.get("HOST"),
        "port": settings_dict.get("PORT"),
        **{key: options[key] for key in LIBPQ_OPTIONS if key in options},
    }
    return make_conninfo(**{key: str(value) for key, value in params.items() if value})


def _tool_env(settings_dict):
    environment = os.environ.copy()
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = settings_dict["PASSWORD"]
    return environment


def _connect(settings_dict):
    password = settings_dict.get("PASSWORD")
    extra = {"password": password} if password else {}
    try:
        return psycopg.connect(conninfo(settings_dict), connect_timeout=10, **extra)
    except psycopg.Error as exc:
        raise CommandError(
            f"cannot connect to database {settings_dict.get('NAME')!r}: {exc}"
        ) from exc


def server_major_version(settings_dict):
    with _connect(settings_dict) as conn:
        return conn.info.server_version // 10000


def schema_table_count(settings_dict):
    """Tables (plain or partitioned) in the service's schema of the database."""
    with _connect(settings_dict) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p')",
            [settings.DB_SCHEMA],
        ).fetchone()
    return row[0]


# --- Tools -----------------------------------------------------------------------------------


def find_tool(name):
    """``pg_dump`` or ``pg_restore`` from ``PG_BIN_DIR``, else from ``PATH``."""
    path = which(name, path=settings.PG_BIN_DIR or None)
    if path is None:
        where = f"in PG_BIN_DIR ({settings.PG_BIN_DIR})" if settings.PG_BIN_DIR else "on PATH"
        raise CommandError(
            f"{name} not found {where}: install the PostgreSQL client tools "
            "(Debian: postgresql-client) or set PG_BIN_DIR"
        )
    return path


def tool_major_version(path):
    result = subprocess.run(  # noqa: S603 (a resolved tool path and fixed arguments, no shell)
        [path, "--version"], capture_output=True, text=True, check=False
    )
    match = re.search(r"\)\s*(\d+)", result.stdout)
    if result.returncode != 0 or match is None:
        raise CommandError(f"cannot tell the version of {path}: {result.stdout}{result.stderr}")
    return int(match.group(1))


def _run(args, settings_dict, what):
    result = subprocess.run(  # noqa: S603 (a resolved tool path and our arguments, no shell)
        args, env=_tool_env(settings_dict), capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        detail = result.stderr.strip() or result.stdout.strip() or "no output"
        raise CommandError(f"{what} failed (exit status {result.returncode}): {detail}")
    return result


# --- Files -----------------------------------------------------------------------------------


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_file(path):
    with open(path, "rb") as stream:
        os.fsync(stream.fileno())


def _fsync_dir(directory):
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _create_exclusive(path):
    """Create an empty file readable by its owner only (dumps hold the whole database)."""
    fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    os.close(fd)


def _prepare_directory(directory):
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CommandError(f"backup directory {directory} cannot be created: {exc}") from exc
    if not directory.is_dir():
        raise CommandError(f"backup directory {directory} is not a directory")


def _publish(partial, final, directory):
    """Flush ``partial`` to disk and rename it: ``final`` is then either whole or absent."""
    _fsync_file(partial)
    os.replace(partial, final)
    _fsync_dir(directory)


def prune(directory, *, retention_days, now=None):
    """Delete this command's files in ``directory`` last modified more than ``retention_days``
    ago (a dump takes its checksum with it); other files are never touched. Returns the paths."""
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    deleted = []
    for path in sorted(directory.iterdir()):
        if not OWN_FILE.fullmatch(path.name) or not path.is_file():
            continue
        if path.stat().st_mtime >= cutoff:
            continue
        doomed = [path]
        if DUMP_NAME.fullmatch(path.name):
            doomed.append(path.with_name(path.name + ".sha256"))
        for victim in doomed:
            if victim.exists():
                victim.unlink()
                deleted.append(victim)
    return deleted


# --- Operations ------------------------------------------------------------------------------


def backup_database(settings_dict, *, directory, retention_days, lock_wait_timeout=300):
    """Dump the service's schema to a new checksummed file in ``directory``, then prune it."""
    if retention_days < 1:
        raise CommandError("--retention-days must be at least 1")
    ensure_postgresql(settings_dict)
    pg_dump = find_tool("pg_dump")
    directory = Path(directory)
    _prepare_directory(directory)

    name = f"{PREFIX}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.dump"
    final = directory / name
    partial = directory / f".{name}.partial"
    checksum = directory / f"{name}.sha256"
    checksum_partial = directory / f".{name}.sha256.partial"
    if final.exists() or checksum.exists():
        raise CommandError(f"{final} already exists; not overwriting it")
    try:
        _create_exclusive(partial)
    except FileExistsError as exc:
        raise CommandError(f"another backup is writing {partial}") from exc
    except OSError as exc:
        raise CommandError(f"backup directory {directory} is not writable: {exc}") from exc

    try:
        tool_version = tool_major_version(pg_dump)
        server_version = server_major_version(settings_dict)
        if tool_version < server_version:
            raise CommandError(
                f"{pg_dump} is version {tool_version} but the server runs PostgreSQL "
                f"{server_version}: install a pg_dump >= {server_version} and point PG_BIN_DIR "
                "at its directory"
            )
        _run(
            [
                pg_dump,
                "--format=custom",
                f"--schema={settings.DB_SCHEMA}",
                "--no-password",
                f"--lock-wait-timeout={int(lock_wait_timeout * 1000)}",
                f"--file={partial}",
                f"--dbname={conninfo(settings_dict)}",
            ],
            settings_dict,
            "pg_dump",
        )
        digest = sha256_of(partial)
        _publish(partial, final, directory)
        with open(checksum_partial, "x") as stream:
            stream.write(f"{digest}  {name}\n")
        _publish(checksum_partial, checksum, directory)
    finally:
        for leftover in (partial, checksum_partial):
            leftover.unlink(missing_ok=True)

    deleted = prune(directory, retention_days=retention_days)
    return Backup(path=final, size=final.stat().st_size, sha256=digest, deleted=deleted)


def verify_checksum(dump):
    """The dump's SHA-256 if it matches the ``.sha256`` file beside it; refuses otherwise."""
    dump = Path(dump)
    if not dump.is_file():
        raise CommandError(f"{dump} does not exist")
    checksum = dump.with_name(dump.name + ".sha256")
    if not checksum.is_file():
        raise CommandError(f"refusing to restore: no checksum file {checksum} beside the dump")
    expected = (checksum.read_text().split() or [""])[0].lower()
    actual = sha256_of(dump)
    if actual != expected:
        raise CommandError(
            f"refusing to restore: {dump} does not match {checksum.name} (expected {expected}, "
            f"got {actual}); the file is damaged or incomplete"
        )
    return actual


def restore_database(dump, settings_dict, *, force=False):
    """Restore a dump into the database of ``settings_dict``, all or nothing (one transaction).

    Refuses a database that already has tables in the service's schema unless ``force``, which
    drops the dump's objects before recreating them.
    """
    ensure_postgresql(settings_dict)
    pg_restore = find_tool("pg_restore")
    verify_checksum(dump)
    existing = schema_table_count(settings_dict)
    if existing and not force:
        raise CommandError(
            f"refusing to restore: database {settings_dict.get('NAME')!r} already has {existing} "
            f"tables in schema {settings.DB_SCHEMA!r}; restore into an empty database, or pass "
            "--force to replace them"
        )
    args = [
        pg_restore,
        "--no-password",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={conninfo(settings_dict)}",
    ]
    if force:
        args += ["--clean", "--if-exists"]
    _run([*args, str(dump)], settings_dict, "pg_restore")
    return schema_table_count(settings_dict)
