"""Throwaway PostgreSQL databases beside the test database, for tests that need a second one
(a restore target, a real server's own database)."""

from contextlib import contextmanager

import psycopg
from django.conf import settings

from procurement_site.management.backups import conninfo


def database_settings(name):
    """The test database's connection settings, for the database ``name``."""
    return {**settings.DATABASES["default"], "NAME": name}


def connect(settings_dict, **kwargs):
    password = settings_dict.get("PASSWORD")
    return psycopg.connect(
        conninfo(settings_dict), **({"password": password} if password else {}), **kwargs
    )


def database_url(settings_dict, *, host=None, port=None):
    user = settings_dict.get("USER") or "postgres"
    password = f":{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else ""
    host = host or settings_dict.get("HOST") or "127.0.0.1"
    port = port or settings_dict.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings_dict['NAME']}"


@contextmanager
def throwaway_database(suffix):
    """An empty database named after the test database plus ``suffix``, dropped afterwards;
    yields its connection settings."""
    name = f"{settings.DATABASES['default']['TEST']['NAME']}_{suffix}"
    admin = database_settings("postgres")
    with connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield database_settings(name)
    finally:
        with connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
