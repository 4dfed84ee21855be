"""Refuse to serve without the static files' manifest, instead of a 500 on every admin page.

With ``DJANGO_DEBUG=0`` (and no ``WHITENOISE_USE_FINDERS``) static URLs carry a content hash that
``collectstatic`` records in ``STATIC_ROOT/staticfiles.json``; a page naming a file missing from
it fails. ``procurement_site.wsgi`` calls ``verify_static_manifest`` before serving (gunicorn,
``runserver`` or any WSGI server). It is not a system check: ``migrate`` and ``collectstatic``
itself must run before the files are collected.
"""

from django.apps import apps
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import storages


def _shipped_files():
    """Every static file the installed apps ship, as ``collectstatic`` would collect them."""
    ignore_patterns = apps.get_app_config("staticfiles").ignore_patterns
    return {path for finder in finders.get_finders() for path, _ in finder.list(ignore_patterns)}


def verify_static_manifest():
    storage = storages["staticfiles"]
    if not isinstance(storage, ManifestFilesMixin):
        return
    hint = (
        "Run `python manage.py collectstatic --no-input` (the Docker image does it at build "
        "time) with the same settings, or set WHITENOISE_USE_FINDERS=1 to serve the apps' files "
        "without it (development and tests)."
    )
    location = f"{storage.location}/{storage.manifest_name}"
    if not storage.manifest_storage.exists(storage.manifest_name):
        raise ImproperlyConfigured(
            f"The static files are not collected: {location} does not exist, so every admin "
            f"page would fail. {hint}"
        )
    hashed_files, _manifest_hash = storage.load_manifest()
    missing = sorted(_shipped_files() - set(hashed_files))
    if missing:
        raise ImproperlyConfigured(
            f"The static files manifest {location} lacks {len(missing)} file(s) that the "
            f"installed apps ship (e.g. {missing[0]}): it predates an upgrade. {hint}"
        )
