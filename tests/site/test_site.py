import pytest
from django.urls import Resolver404, resolve

pytestmark = pytest.mark.django_db


def test_healthz(anon_client):
    response = anon_client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_checks_database(anon_client):
    response = anon_client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_are_answered_by_the_middleware_alone(path):
    """No URL route: ``HealthCheckMiddleware`` answers them before URL resolution."""
    with pytest.raises(Resolver404):
        resolve(path)


def test_schema_is_downloadable_openapi_3(anon_client):
    response = anon_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert "/suppliers" in schema["paths"]
    assert "Error" in schema["components"]["schemas"]
    assert "tokenAuth" in schema["components"]["securitySchemes"]


def test_swagger_ui_is_served(anon_client):
    response = anon_client.get("/api/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


def test_unknown_path_is_json_404(reader_client):
    response = reader_client.get("/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"status": 404, "code": "not_found", "message": "No such resource."}


def test_method_not_allowed_has_error_shape(reader_client):
    response = reader_client.delete("/suppliers")
    assert response.status_code == 405
    assert set(response.json()) >= {"status", "code", "message"}


def test_error_extras_cannot_replace_the_shape():
    from procurement_site.api.errors import error_body

    assert error_body(409, "conflict", "m", current_status="draft")["status"] == 409
    with pytest.raises(ValueError, match="status"):
        error_body(409, "conflict", "m", status="draft")


@pytest.mark.parametrize("method", ["put", "delete"])
def test_unserved_methods_are_405_even_with_every_permission(admin_client_api, method):
    response = getattr(admin_client_api, method)("/suppliers", {}, format="json")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"
