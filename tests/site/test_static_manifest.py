"""Serving with DJANGO_DEBUG=0 needs `collectstatic` first (the static files' manifest): without
it the server refuses to start, saying what to do, instead of answering 500 on every admin page.
`make run` (debug) and servers with WHITENOISE_USE_FINDERS=1 (the tests') need no manifest."""

import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from procurement_site.staticfiles import verify_static_manifest
from tests.servers import free_port
from tests.site.test_settings import PRODUCTION, _run

MANIFEST_STORAGE = "whitenoise.storage.CompressedManifestStaticFilesStorage"


@pytest.fixture(scope="module")
def collected(tmp_path_factory):
    """STATIC_ROOT after a real `collectstatic` with the production settings."""
    root = tmp_path_factory.mktemp("collected")
    result = _run(
        ["manage.py", "collectstatic", "--no-input", "-v", "0"],
        **PRODUCTION,
        DJANGO_STATIC_ROOT=str(root),
    )
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def manifest_storage(settings):
    def use(root):
        settings.STATIC_ROOT = root
        settings.STORAGES = {**settings.STORAGES, "staticfiles": {"BACKEND": MANIFEST_STORAGE}}

    return use


def test_without_collectstatic_the_check_says_what_to_do(manifest_storage, tmp_path):
    manifest_storage(tmp_path)

    with pytest.raises(ImproperlyConfigured) as refused:
        verify_static_manifest()

    message = str(refused.value)
    assert f"{tmp_path}/staticfiles.json does not exist" in message
    assert "python manage.py collectstatic --no-input" in message
    assert "WHITENOISE_USE_FINDERS=1" in message


def test_a_manifest_from_before_an_upgrade_is_refused(manifest_storage, tmp_path, collected):
    manifest = json.loads((collected / "staticfiles.json").read_text())
    del manifest["paths"]["drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"]
    (tmp_path / "staticfiles.json").write_text(json.dumps(manifest))
    manifest_storage(tmp_path)

    with pytest.raises(ImproperlyConfigured, match=r"lacks 1 file\(s\).*swagger-ui-bundle\.js"):
        verify_static_manifest()


@pytest.mark.django_db
def test_after_collectstatic_the_check_passes_and_admin_pages_use_the_hashed_names(
    manifest_storage, collected
):
    manifest_storage(collected)

    verify_static_manifest()

    response = Client().get("/admin/login/")
    assert response.status_code == 200
    hashed = json.loads((collected / "staticfiles.json").read_text())["paths"]["admin/css/base.css"]
    assert f"/static/{hashed}" in response.content.decode()


def test_the_plain_storage_needs_no_manifest(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    verify_static_manifest()


@pytest.mark.slow
def test_gunicorn_refuses_to_start_without_collectstatic(tmp_path):
    result = _run(
        ["-m", "gunicorn", "-c", "gunicorn.conf.py"],
        **PRODUCTION,
        DJANGO_STATIC_ROOT=str(tmp_path),
        DATABASE_URL="postgres://nobody@127.0.0.1:1/none",
        GUNICORN_BIND=f"127.0.0.1:{free_port()}",
        GUNICORN_WORKERS="1",
    )

    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "The static files are not collected" in output
    assert "collectstatic" in output


@pytest.mark.parametrize(
    "environment",
    [{"DJANGO_DEBUG": "1"}, {**PRODUCTION, "WHITENOISE_USE_FINDERS": "1"}],
    ids=["make-run", "tests"],
)
def test_debug_and_finders_start_without_collectstatic(tmp_path, environment):
    result = _run(
        ["-c", "import procurement_site.wsgi"], **environment, DJANGO_STATIC_ROOT=str(tmp_path)
    )
    assert result.returncode == 0, result.stderr


def test_production_starts_after_collectstatic(collected):
    result = _run(
        ["-c", "import procurement_site.wsgi"], **PRODUCTION, DJANGO_STATIC_ROOT=str(collected)
    )
    assert result.returncode == 0, result.stderr
