"""backup_database and restore_database against the real server, with pg_dump and pg_restore.

pg_dump sees committed data only, hence ``transaction=True`` wherever a dump must hold rows.
"""

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from procurement_site.management.backups import (
    ensure_postgresql,
    find_tool,
    schema_table_count,
)
from stock.models import StockLevel
from suppliers.models import Supplier
from tests.factories import StockLevelFactory, SupplierFactory
from tests.site.databases import connect, database_url, throwaway_database

DAY = 86400
SNAPSHOT_QUERIES = {
    "suppliers": "SELECT * FROM procurement.suppliers ORDER BY supplier_id",
    "stock_levels": "SELECT * FROM procurement.stock_levels ORDER BY stock_id",
}


def _snapshot(settings_dict):
    with connect(settings_dict) as conn:
        return {table: conn.execute(sql).fetchall() for table, sql in SNAPSHOT_QUERIES.items()}


@pytest.fixture
def fresh_database():
    """An empty database beside the test database, dropped afterwards."""
    with throwaway_database("restore") as settings_dict:
        yield settings_dict


def _backup(directory, **options):
    out = StringIO()
    call_command("backup_database", output_dir=str(directory), stdout=out, **options)
    (dump,) = directory.glob("procurement-*.dump")
    return dump, out.getvalue()


def _restore(dump, target=None, **options):
    if target is not None:
        options["database_url"] = database_url(target)
    call_command("restore_database", str(dump), stdout=StringIO(), **options)


@pytest.mark.django_db(transaction=True)
def test_restore_into_fresh_database_has_exactly_the_rows_at_backup_time(tmp_path, fresh_database):
    suppliers = SupplierFactory.create_batch(3)
    levels = StockLevelFactory.create_batch(2, quantity_on_hand=4)
    at_backup = _snapshot(connection.settings_dict)
    assert len(at_backup["suppliers"]) == 3
    assert len(at_backup["stock_levels"]) == 2

    dump, output = _backup(tmp_path)

    SupplierFactory()
    Supplier.objects.filter(pk=suppliers[0].pk).update(name="Renamed after the backup")
    StockLevel.objects.filter(pk=levels[0].pk).update(quantity_on_hand=99)
    StockLevel.objects.filter(pk=levels[1].pk).delete()
    assert _snapshot(connection.settings_dict) != at_backup

    _restore(dump, fresh_database)

    assert _snapshot(fresh_database) == at_backup
    assert str(dump) in output


@pytest.mark.django_db(transaction=True)
def test_backup_writes_a_custom_dump_and_its_checksum_and_nothing_else(tmp_path):
    dump, _ = _backup(tmp_path)

    assert dump.name.startswith("procurement-") and dump.name.endswith("Z.dump")
    assert dump.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    assert dump.stat().st_mode & 0o777 == 0o600
    checksum = dump.with_name(dump.name + ".sha256")
    digest = hashlib.sha256(dump.read_bytes()).hexdigest()
    assert checksum.read_text() == f"{digest}  {dump.name}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [dump.name, checksum.name]
    listing = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        [find_tool("pg_restore"), "--list", str(dump)], capture_output=True, text=True, check=True
    ).stdout
    assert "SCHEMA - procurement" in listing
    assert "TABLE procurement suppliers" in listing


@pytest.mark.django_db(transaction=True)
def test_backup_goes_to_backup_dir_setting_by_default(tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "nested" / "backups"

    call_command("backup_database", stdout=StringIO())

    assert len(list(settings.BACKUP_DIR.glob("procurement-*.dump"))) == 1


def _touch(path, age_days, content="x"):
    path.write_text(content)
    mtime = time.time() - age_days * DAY
    os.utime(path, (mtime, mtime))


@pytest.mark.django_db(transaction=True)
def test_retention_deletes_only_its_own_old_files(tmp_path):
    old = "procurement-20200101T000000Z.dump"
    old_with_young_checksum = "procurement-20200102T000000Z.dump"
    young = "procurement-20200201T000000Z.dump"
    _touch(tmp_path / old, 31)
    _touch(tmp_path / f"{old}.sha256", 31)
    _touch(tmp_path / old_with_young_checksum, 40)
    _touch(tmp_path / f"{old_with_young_checksum}.sha256", 1)  # goes with its dump
    _touch(tmp_path / f".{old}.partial", 31)  # left by a crashed run
    _touch(tmp_path / young, 29)
    _touch(tmp_path / f"{young}.sha256", 29)
    foreign = [
        "notes.txt",
        "other-20200101T000000Z.dump",
        "procurement-latest.dump",
        "procurement-20200101T000000Z.dump.bak",
        "procurement-20200101T000000Z.sql",
        "procurement-2020-01-01.dump",
    ]
    for name in foreign:
        _touch(tmp_path / name, 400)
    (tmp_path / "procurement-20200103T000000Z.dump").mkdir()  # not a file: left alone
    os.utime(tmp_path / "procurement-20200103T000000Z.dump", (0, 0))

    before = {p.name for p in tmp_path.iterdir()}
    out = StringIO()
    call_command("backup_database", output_dir=str(tmp_path), retention_days=30, stdout=out)

    remaining = {p.name for p in tmp_path.iterdir()}
    new = remaining - before
    assert len(new) == 2  # today's dump and checksum
    assert remaining - new == {
        young,
        f"{young}.sha256",
        "procurement-20200103T000000Z.dump",
        *foreign,
    }
    for name in (old, f"{old}.sha256", old_with_young_checksum, f".{old}.partial"):
        assert f"Deleted {tmp_path / name}" in out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_retention_follows_the_option(tmp_path):
    _touch(tmp_path / "procurement-20200101T000000Z.dump", 8)
    _touch(tmp_path / "procurement-20200102T000000Z.dump", 6)

    call_command("backup_database", output_dir=str(tmp_path), retention_days=7, stdout=StringIO())

    names = {p.name for p in tmp_path.iterdir()}
    assert "procurement-20200101T000000Z.dump" not in names
    assert "procurement-20200102T000000Z.dump" in names


def test_retention_below_one_day_is_refused(tmp_path):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("backup_database", output_dir=str(tmp_path), retention_days=0)
    assert list(tmp_path.iterdir()) == []


# --- Failures ---------------------------------------------------------------------------------


def test_missing_pg_dump_is_a_clear_error(tmp_path, monkeypatch, settings):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    settings.PG_BIN_DIR = ""

    with pytest.raises(CommandError, match="pg_dump not found on PATH"):
        call_command("backup_database", output_dir=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()


def test_pg_bin_dir_without_pg_dump_is_a_clear_error(tmp_path, settings):
    settings.PG_BIN_DIR = str(tmp_path)

    with pytest.raises(CommandError, match=r"pg_dump not found in PG_BIN_DIR"):
        call_command("backup_database", output_dir=str(tmp_path / "out"))


def _manage(*args, env=None, **kwargs):
    """``manage.py`` in a subprocess, with this process's environment unless ``env`` is given."""
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments, no shell)
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env={**(os.environ if env is None else env), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        **kwargs,
    )


@contextmanager
def _unprivileged():
    """Root writes anywhere: run the block with an unprivileged effective user and group."""
    if os.geteuid() != 0:
        yield
        return
    nobody = pwd.getpwnam("nobody")
    os.setegid(nobody.pw_gid)
    os.seteuid(nobody.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


def test_unwritable_directory_is_a_clear_error():
    base = Path(tempfile.mkdtemp())
    try:
        base.chmod(0o755)
        target = base / "read-only"
        target.mkdir()
        target.chmod(0o555)

        with _unprivileged(), pytest.raises(CommandError) as failure:
            call_command("backup_database", output_dir=str(target))

        assert f"backup directory {target} is not writable" in str(failure.value)
        assert list(target.iterdir()) == []
    finally:
        shutil.rmtree(base)


def test_path_that_is_a_file_is_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")

    with pytest.raises(CommandError, match="cannot be created"):
        call_command("backup_database", output_dir=str(afile / "backups"))


def test_non_postgresql_database_fails_with_non_zero_exit(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    env["SQLITE_PATH"] = str(tmp_path / "db.sqlite3")
    result = _manage("backup_database", "--output-dir", str(tmp_path / "out"), env=env)

    assert result.returncode != 0
    assert "need PostgreSQL" in result.stderr
    assert "sqlite3" in result.stderr
    assert not (tmp_path / "out").exists()


def test_ensure_postgresql_names_the_configured_engine():
    with pytest.raises(CommandError, match=r"django\.db\.backends\.sqlite3"):
        ensure_postgresql({"ENGINE": "django.db.backends.sqlite3", "NAME": "x"})
    ensure_postgresql({"ENGINE": "django.db.backends.postgresql"})


@pytest.mark.django_db(transaction=True)
def test_pg_dump_failure_shows_its_error_and_leaves_no_file(tmp_path):
    with connect(connection.settings_dict) as locker:
        locker.execute("LOCK TABLE procurement.suppliers IN ACCESS EXCLUSIVE MODE")
        with pytest.raises(CommandError, match=r"pg_dump failed .*statement timeout") as failure:
            call_command("backup_database", output_dir=str(tmp_path), lock_wait_timeout=0.3)
    assert "LOCK TABLE procurement.suppliers" in str(failure.value)
    assert list(tmp_path.iterdir()) == []


# --- Restore refusals -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_checksum_mismatch_refuses_restore_and_leaves_target_empty(tmp_path, fresh_database):
    SupplierFactory()
    dump, _ = _backup(tmp_path)
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))

    with pytest.raises(CommandError, match=r"does not match .*damaged or incomplete"):
        _restore(dump, fresh_database)
    assert schema_table_count(fresh_database) == 0


@pytest.mark.django_db(transaction=True)
def test_missing_checksum_refuses_restore(tmp_path, fresh_database):
    dump, _ = _backup(tmp_path)
    dump.with_name(dump.name + ".sha256").unlink()

    with pytest.raises(CommandError, match="no checksum file"):
        _restore(dump, fresh_database)
    assert schema_table_count(fresh_database) == 0


def test_missing_dump_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore_database", str(tmp_path / "procurement-20200101T000000Z.dump"))


@pytest.mark.django_db(transaction=True)
def test_non_empty_target_is_refused_without_force(tmp_path):
    SupplierFactory(name="At backup")
    dump, _ = _backup(tmp_path)
    SupplierFactory(name="After backup")

    # The default target is the configured database: it has the service's tables.
    with pytest.raises(CommandError, match=r"already has .* tables in schema 'procurement'"):
        _restore(dump)
    assert set(Supplier.objects.values_list("name", flat=True)) == {"At backup", "After backup"}


@pytest.mark.django_db(transaction=True)
def test_force_replaces_the_target_contents(tmp_path, fresh_database):
    SupplierFactory.create_batch(2)
    at_backup = _snapshot(connection.settings_dict)
    dump, _ = _backup(tmp_path)
    _restore(dump, fresh_database)
    with connect(fresh_database) as conn:
        conn.execute("DELETE FROM procurement.suppliers")
        conn.execute(
            "INSERT INTO procurement.stock_levels (stock_id, item_type, location_id, "
            "quantity_on_hand, reorder_point, reorder_quantity) "
            "VALUES (gen_random_uuid(), 'kayak', gen_random_uuid(), 1, 0, 0)"
        )

    with pytest.raises(CommandError, match="--force"):
        _restore(dump, fresh_database)
    _restore(dump, fresh_database, force=True)

    assert _snapshot(fresh_database) == at_backup


def test_restore_into_non_postgresql_url_is_refused(tmp_path):
    dump = tmp_path / "procurement-20200101T000000Z.dump"
    dump.write_bytes(b"PGDMP")
    digest = hashlib.sha256(b"PGDMP").hexdigest()
    dump.with_name(dump.name + ".sha256").write_text(f"{digest}  {dump.name}\n")

    with pytest.raises(CommandError, match="need PostgreSQL"):
        call_command(
            "restore_database", str(dump), database_url=f"sqlite:///{tmp_path / 'x.sqlite3'}"
        )
