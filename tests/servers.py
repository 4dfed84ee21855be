"""The app served by gunicorn (``gunicorn.conf.py``) for the tests that need a real server
(``tests/site/test_outage.py``, ``tests/site/test_static_manifest.py``, ``tests/fuzz/run.py``):
its environment, defined once."""

import os
import secrets
import socket


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def server_env(database_url, **extra):
    """The environment of a test server on ``database_url``, and of the commands run on its
    database: the production settings (no debug, no HTTPS redirect, a throwaway secret), the apps'
    static files served without ``collectstatic``, and none of the caller's Django, database or
    gunicorn variables. ``extra`` adds or overrides variables (``GUNICORN_BIND``, ...)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DB_", "GUNICORN_", "DATABASE_URL"))
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_hex(32),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        # No collectstatic here: serve the apps' static files (procurement_site.staticfiles).
        WHITENOISE_USE_FINDERS="1",
        PYTHONDONTWRITEBYTECODE="1",
        **extra,
    )
    return env
