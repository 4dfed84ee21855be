"""API tokens (contract "Tokens and limits"): stored hashed, named, several per user, revocable,
optionally expiring; ``Authorization: Token <key>`` is the scheme; expired or revoked is a 401."""

import importlib
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import queries, services
from accounts.models import ApiToken, hash_key
from accounts.selectors import api_token_for_key
from common.errors import InvalidInput, NotFound, PermissionDenied
from common.rows import ModelColumns
from tests.factories import ApiTokenFactory, UserFactory

pytestmark = pytest.mark.django_db


def get_with(key, path="/suppliers"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(path)


def assert_refused(response, message):
    assert response.status_code == 401
    body = response.json()
    assert body == {"status": 401, "code": "authentication_failed", "message": message}
    assert response["WWW-Authenticate"] == "Token"


def test_the_key_authenticates_and_only_its_hash_is_stored():
    user = UserFactory(username="ana")

    token, key = services.create_api_token(user=user, name="laptop")

    assert get_with(key).status_code == 200
    stored = ApiToken.objects.get(pk=token.pk)
    assert stored.key_hash == hash_key(key) != key
    assert len(stored.key_hash) == 64
    assert stored.key_prefix == key[:8]
    assert (stored.name, stored.user, stored.expires_at, stored.revoked_at) == (
        "laptop",
        user,
        None,
        None,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM api_tokens")
        rows = cursor.fetchall()
    assert not any(key in str(value) for row in rows for value in row)


def test_keys_are_long_random_and_distinct():
    user = UserFactory()
    keys = {services.create_api_token(user=user, name=f"t{n}")[1] for n in range(20)}
    assert len(keys) == 20
    assert all(len(key) == 43 for key in keys)


def test_a_user_holds_several_named_tokens_each_working():
    user = UserFactory()
    first = ApiTokenFactory(user=user, name="ci")
    second = ApiTokenFactory(user=user, name="laptop")

    assert get_with(first.key).status_code == 200
    assert get_with(second.key).status_code == 200
    assert sorted(user.api_tokens.values_list("name", flat=True)) == ["ci", "laptop"]


def test_authentication_is_one_query_and_the_request_user_is_the_tokens():
    token = ApiTokenFactory(user=UserFactory(username="solo"))
    with CaptureQueriesContext(connection) as queries:
        response = get_with(token.key, "/stock-levels")
    assert response.status_code == 200
    token_queries = [q["sql"] for q in queries.captured_queries if "api_tokens" in q["sql"]]
    assert len(token_queries) == 1
    assert hash_key(token.key) in token_queries[0]
    assert token.key not in " ".join(q["sql"] for q in queries.captured_queries)


@pytest.mark.sqlite
def test_the_token_and_its_user_are_read_as_the_orm_reads_them():
    """``api_token_for_key`` writes its statement by hand: its instances hold what the ORM's
    would, typed alike (on SQLite too, whose UUIDs and date-times come back as text)."""
    token = ApiTokenFactory(expires_in_days=3, user=UserFactory(last_login=timezone.now()))

    found = api_token_for_key(key=token.key)

    expected = ApiToken.objects.select_related("user").get(pk=token.pk)
    for ours, theirs in ((found, expected), (found.user, expected.user)):
        for field in type(theirs)._meta.concrete_fields:
            mine, orm = getattr(ours, field.attname), getattr(theirs, field.attname)
            assert (type(mine), mine) == (type(orm), orm), field.name
    assert api_token_for_key(key="no-such-key") is None


@pytest.mark.sqlite
def test_the_written_out_statement_selects_the_models_columns_in_order():
    columns = ModelColumns(ApiToken, get_user_model())
    assert queries.TOKEN_WITH_USER_SQL.startswith(f"SELECT {columns.sql} FROM ")


@pytest.mark.sqlite
def test_a_revoked_token_is_a_401_and_others_keep_working():
    user = UserFactory()
    revoked, kept = ApiTokenFactory(user=user), ApiTokenFactory(user=user)

    assert services.revoke_api_tokens(token_ids=[revoked.pk]) == 1

    assert_refused(get_with(revoked.key), "Token revoked.")
    assert get_with(kept.key).status_code == 200
    assert ApiToken.objects.get(pk=revoked.pk).revoked_at is not None


def test_revoking_again_keeps_the_first_revocation_time():
    token = ApiTokenFactory()
    services.revoke_api_tokens(token_ids=[token.pk])
    first = ApiToken.objects.get(pk=token.pk).revoked_at

    assert services.revoke_api_tokens(token_ids=[token.pk]) == 0
    assert ApiToken.objects.get(pk=token.pk).revoked_at == first


@pytest.mark.sqlite
def test_an_expired_token_is_a_401():
    token = ApiTokenFactory(expires_in_days=1)
    assert get_with(token.key).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert_refused(get_with(token.key), "Token expired.")


def test_expiry_is_set_from_the_days_given():
    before = timezone.now()
    token, _ = services.create_api_token(user=UserFactory(), name="ci", expires_in_days=30)
    assert before + timedelta(days=30) <= token.expires_at <= timezone.now() + timedelta(days=30)


@pytest.mark.sqlite
def test_an_unknown_key_and_an_inactive_user_are_401s():
    assert_refused(get_with("not-a-real-token"), "Invalid token.")
    token = ApiTokenFactory()
    token.user.is_active = False
    token.user.save()
    assert_refused(get_with(token.key), "User inactive or deleted.")


def test_the_hash_itself_is_not_a_key():
    token = ApiTokenFactory()
    assert_refused(get_with(hash_key(token.key)), "Invalid token.")


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ci", "expires_in_days": 0}, "expires_in_days"),
        ({"name": "ci", "expires_in_days": 3651}, "expires_in_days"),
    ],
)
def test_bad_names_and_expiries_are_refused_and_nothing_is_stored(options, field):
    with pytest.raises(InvalidInput) as refused:
        services.create_api_token(user=UserFactory(), **options)
    assert refused.value.field == field
    assert not ApiToken.objects.exists()


def test_only_the_owner_or_a_superuser_revokes():
    owner, other = UserFactory(), UserFactory()
    token = ApiTokenFactory(user=owner)

    with pytest.raises(PermissionDenied):
        services.revoke_api_tokens(token_ids=[token.pk], by_user=other)
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None

    assert services.revoke_api_tokens(token_ids=[token.pk], by_user=owner) == 1
    second = ApiTokenFactory(user=owner)
    boss = UserFactory(is_superuser=True)
    assert services.revoke_api_tokens(token_ids=[second.pk], by_user=boss) == 1


def test_revoking_an_unknown_token_revokes_nothing():
    token = ApiTokenFactory()
    with pytest.raises(NotFound):
        services.revoke_api_tokens(token_ids=[token.pk, uuid.uuid4()])
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# --- manage.py create_api_token / list_api_tokens / revoke_api_token -----------------------------


def run(command, *args):
    out, err = StringIO(), StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_create_api_token_prints_the_key_once_on_its_last_line():
    UserFactory(username="ops")

    out, err = run("create_api_token", "ops", "--name", "deploy bot", "--expires-in-days", "7")

    key = out.splitlines()[-1]
    token = ApiToken.objects.get()
    assert token.key_hash == hash_key(key)
    assert (token.name, token.user.username) == ("deploy bot", "ops")
    assert timezone.now() + timedelta(days=6) < token.expires_at
    assert "deploy bot" in err and "ops" in err
    assert get_with(key).status_code == 200


def test_create_api_token_defaults_and_errors():
    UserFactory(username="ops")
    out, _ = run("create_api_token", "ops")
    token = ApiToken.objects.get()
    assert (token.name, token.expires_at) == ("api", None)
    assert get_with(out.splitlines()[-1]).status_code == 200

    with pytest.raises(CommandError, match="No user nobody"):
        run("create_api_token", "nobody")
    with pytest.raises(CommandError, match="expires_in_days"):
        run("create_api_token", "ops", "--expires-in-days", "0")
    assert ApiToken.objects.count() == 1


def test_list_and_revoke_commands():
    ana, bo = UserFactory(username="ana"), UserFactory(username="bo")
    laptop = ApiTokenFactory(user=ana, name="laptop")
    ApiTokenFactory(user=ana, name="ci")
    bos = ApiTokenFactory(user=bo, name="bo's")

    out, _ = run("list_api_tokens", "ana")
    lines = out.splitlines()
    assert lines[0].startswith("token_id\tuser\tname")
    assert {line.split("\t")[2] for line in lines[1:]} == {"laptop", "ci"}
    assert laptop.key not in out
    assert f"{laptop.key[:8]}…" in out

    out, _ = run("revoke_api_token", str(laptop.pk))
    assert "Revoked 1" in out
    assert_refused(get_with(laptop.key), "Token revoked.")
    out, _ = run("list_api_tokens")
    assert len(out.splitlines()) == 4
    assert "laptop\t" in out and "\trevoked\t" in out

    out, _ = run("revoke_api_token", "--user", "bo")
    assert "Revoked 1" in out
    assert_refused(get_with(bos.key), "Token revoked.")
    with pytest.raises(CommandError):
        run("revoke_api_token")
    with pytest.raises(CommandError, match="No API token"):
        run("revoke_api_token", str(uuid.uuid4()))


def test_drf_create_token_is_gone():
    """It stored keys in plain text; create_api_token replaces it."""
    with pytest.raises(CommandError, match="Unknown command"):
        call_command("drf_create_token", "ops")


# --- the data migration: DRF's plain-text tokens become hashed tokens ---------------------------


@pytest.fixture
def drf_token_table():
    """DRF's ``authtoken_token`` as an installation from before this release holds it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, created timestamptz "
            "NOT NULL, user_id integer NOT NULL UNIQUE REFERENCES auth_user (id))"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE authtoken_token")


def test_the_migration_hashes_drf_tokens_which_keep_working(drf_token_table):
    from django.apps import apps

    ana, bo = UserFactory(username="ana"), UserFactory(username="bo")
    keys = {ana: "a" * 40, bo: "0123456789abcdef0123456789abcdef01234567"}
    with connection.cursor() as cursor:
        for user, key in keys.items():
            cursor.execute(
                "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, now(), %s)",
                [key, user.pk],
            )

    migration = importlib.import_module("accounts.migrations.0002_hash_existing_drf_tokens")
    migration.hash_existing_drf_tokens(apps, connection.schema_editor())

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)
    for user, key in keys.items():
        token = ApiToken.objects.get(user=user)
        assert (token.key_hash, token.key_prefix) == (hash_key(key), key[:8])
        assert token.name == "Token from before hashing"
        response = get_with(key)
        assert response.status_code == 200, response.json()


def test_the_migration_does_nothing_without_drfs_table():
    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0002_hash_existing_drf_tokens")
    migration.hash_existing_drf_tokens(apps, connection.schema_editor())
    assert not ApiToken.objects.exists()
