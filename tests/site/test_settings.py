"""Production settings: read from the environment, safe by default, ``check --deploy`` clean."""

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings as django_settings

# Everything settings.py reads; the test process's own values are left out of each run.
SETTINGS_PREFIXES = (
    "DJANGO_",
    "DB_",
    "DATABASE_URL",
    "BACKUP_",
    "PG_BIN_DIR",
    "LOG_LEVEL",
    "WHITENOISE_",
    "API_WRITE_RATE",
    "AXES_",
)
PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "procurement.example.com",
}
SHOWN = [
    "DEBUG",
    "ALLOWED_HOSTS",
    "CSRF_TRUSTED_ORIGINS",
    "SECURE_SSL_REDIRECT",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "BACKUP_DIR",
    "BACKUP_RETENTION_DAYS",
    "PG_BIN_DIR",
    "LOG_LEVEL",
]
SHOW_SETTINGS = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    f"shown = {{name: getattr(s, name, None) for name in {SHOWN!r}}}; "
    "shown['DATABASE'] = s.DATABASES['default']; "
    "print(json.dumps(shown, default=str))"
)


def _run(args, **env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(SETTINGS_PREFIXES)}
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments, no shell)
        [sys.executable, *args],
        cwd=django_settings.BASE_DIR,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "procurement_site.settings",
            "PYTHONDONTWRITEBYTECODE": "1",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _settings_with(**env):
    result = _run(["-c", SHOW_SETTINGS], **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_check_deploy_is_clean_with_production_environment():
    result = _run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
        DATABASE_URL=os.environ["DATABASE_URL"],
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_defaults_are_safe():
    shown = _settings_with(**PRODUCTION)

    assert shown["DEBUG"] is False
    assert shown["ALLOWED_HOSTS"] == ["procurement.example.com"]
    assert shown["SECURE_SSL_REDIRECT"] is True
    assert shown["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert shown["SECURE_HSTS_SECONDS"] == 31536000
    assert shown["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert shown["SECURE_HSTS_PRELOAD"] is True
    assert shown["SESSION_COOKIE_SECURE"] is True
    assert shown["CSRF_COOKIE_SECURE"] is True
    assert shown["CSRF_TRUSTED_ORIGINS"] == []
    assert shown["BACKUP_DIR"] == str(django_settings.BASE_DIR / "backups")
    assert shown["BACKUP_RETENTION_DAYS"] == 30
    assert shown["PG_BIN_DIR"] == ""
    assert shown["LOG_LEVEL"] == "INFO"


def test_proxy_redirect_origins_and_backups_come_from_the_environment(tmp_path):
    shown = _settings_with(
        **PRODUCTION,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_PROXY_SSL_HEADER="0",
        DJANGO_CSRF_TRUSTED_ORIGINS="https://procurement.example.com,https://ops.example.com",
        DJANGO_SECURE_HSTS_SECONDS="600",
        DJANGO_SECURE_HSTS_PRELOAD="0",
        BACKUP_DIR=str(tmp_path),
        BACKUP_RETENTION_DAYS="7",
        PG_BIN_DIR="/usr/lib/postgresql/16/bin",
        LOG_LEVEL="debug",
    )

    assert shown["SECURE_SSL_REDIRECT"] is False
    assert shown["SECURE_PROXY_SSL_HEADER"] is None
    assert shown["CSRF_TRUSTED_ORIGINS"] == [
        "https://procurement.example.com",
        "https://ops.example.com",
    ]
    assert shown["SECURE_HSTS_SECONDS"] == 600
    assert shown["SECURE_HSTS_PRELOAD"] is False
    assert shown["BACKUP_DIR"] == str(tmp_path)
    assert shown["BACKUP_RETENTION_DAYS"] == 7
    assert shown["PG_BIN_DIR"] == "/usr/lib/postgresql/16/bin"
    assert shown["LOG_LEVEL"] == "DEBUG"


def test_database_pool_is_health_checked_and_configurable():
    shown = _settings_with(
        **PRODUCTION,
        DATABASE_URL="postgres://app:pw@db.internal:5433/procurement",
        DB_POOL_MAX_SIZE="4",
        DB_POOL_TIMEOUT_SECONDS="2.5",
    )

    database = shown["DATABASE"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        5433,
        "procurement",
    )
    assert database["OPTIONS"]["pool"] == {
        "min_size": 3,
        "max_size": 4,
        "max_idle": 600.0,
        "timeout": 2.5,
    }
    assert database["CONN_HEALTH_CHECKS"] is True


def test_production_without_secret_key_refuses_to_start():
    result = _run(["manage.py", "check"], DJANGO_DEBUG="0")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_sqlite_fallback_runs_commands_cleanly(tmp_path):
    result = _run(["manage.py", "check"], **PRODUCTION, SQLITE_PATH=str(tmp_path / "db.sqlite3"))

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_probes_answer_any_host_over_plain_http(settings, anon_client):
    """Orchestrators probe the pod address over HTTP; the API itself still validates both."""
    settings.ALLOWED_HOSTS = ["procurement.example.com"]
    settings.SECURE_SSL_REDIRECT = True

    assert anon_client.get("/healthz", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert anon_client.get("/readyz", HTTP_HOST="10.0.3.7:8000").status_code == 200
    assert anon_client.get("/suppliers", HTTP_HOST="10.0.3.7:8000").status_code == 400
    redirect = anon_client.get("/suppliers", HTTP_HOST="procurement.example.com")
    assert redirect.status_code == 301
    assert redirect["Location"] == "https://procurement.example.com/suppliers"
