"""A database dump (the daily backup, ``manage.py backup_database``) holds no usable API token:
restored, every value of every token row, tried as a key, is a 401."""

from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.factories import ApiTokenFactory, UserFactory
from tests.site.databases import connect, database_url, throwaway_database


@pytest.mark.django_db(transaction=True)
def test_no_value_in_a_backup_authenticates(tmp_path):
    user = UserFactory(username="holder")
    tokens = [ApiTokenFactory(user=user, name=f"token {n}") for n in range(3)]
    tokens.append(ApiTokenFactory(user=user, name="expiring", expires_in_days=30))
    for token in tokens:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        assert client.get("/suppliers").status_code == 200

    call_command("backup_database", output_dir=str(tmp_path), stdout=StringIO())
    (dump,) = tmp_path.glob("procurement-*.dump")
    assert all(token.key.encode() not in dump.read_bytes() for token in tokens)

    with throwaway_database("tokens") as restored:
        call_command(
            "restore_database",
            str(dump),
            database_url=database_url(restored),
            stdout=StringIO(),
        )
        with connect(restored) as conn:
            rows = conn.execute("SELECT * FROM procurement.api_tokens").fetchall()
            tables = {
                name
                for (name,) in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'procurement'"
                )
            }

    assert len(rows) == len(tokens)
    assert "authtoken_token" not in tables
    candidates = {str(value) for row in rows for value in row if value is not None}
    assert candidates  # token ids, names, hashes, prefixes, dates
    for candidate in candidates:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {candidate}")
        response = client.get("/suppliers")
        assert response.status_code == 401, candidate
        assert response.json()["code"] == "authentication_failed"
