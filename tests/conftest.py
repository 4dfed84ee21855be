import re

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import ApiTokenFactory, UserFactory

ALL_PERMS = [
    "suppliers.add_supplier",
    "suppliers.change_supplier",
    "stock.add_stockadjustment",
    "stock.change_stocklevel",
    "procurement.add_purchaseorder",
    "procurement.change_purchaseorder",
    "procurement.approve_purchaseorder",
]


def pytest_collection_modifyitems(config, items):
    """Without DATABASE_URL the suite runs on SQLite (``make run``'s database): only the tests
    marked ``sqlite`` (not also ``postgresql``) run there; the others are skipped."""
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (not marked sqlite)")
    for item in items:
        if item.get_closest_marker("sqlite") is None or item.get_closest_marker("postgresql"):
            item.add_marker(skip)


def statements_touching(queries, table):
    """How many captured statements name ``table`` (a CaptureQueriesContext): a count that
    holds whatever the statements' verbs and shape (ORM or raw SQL)."""
    name = re.compile(rf"\b{re.escape(table)}\b")
    return sum(bool(name.search(query["sql"])) for query in queries.captured_queries)


def database_conninfo():
    """The libpq connection string of the test database, for code that connects with psycopg
    itself (the benchmark's seed and floor)."""
    params = connection.get_connection_params()
    keep = ("dbname", "user", "host", "port", "password")
    return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if k in keep})


def quantity_and_ledger(stock_id):
    """A stock level's quantity on hand and the number of its ledger rows (adjustments)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT quantity_on_hand, (SELECT count(*) FROM stock_adjustments a "
            "WHERE a.stock_id = s.stock_id) FROM stock_levels s WHERE stock_id = %s",
            [stock_id],
        )
        return cursor.fetchone()


def client_for(user):
    """An API client authenticated with a new API token of the user, as API consumers call."""
    client = APIClient()
    token = ApiTokenFactory(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The factories set a password on every user; the production hasher takes most of a second
    on a shared machine, for nothing these tests look at."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def anon_client():
    return APIClient()


@pytest.fixture
def reader_client(db):
    """Authenticated, without any permission."""
    return client_for(UserFactory(username="reader"))


@pytest.fixture
def admin_client_api(db):
    """Holds every permission of the service (not a superuser)."""
    return client_for(UserFactory(username="operator", perms=ALL_PERMS))


@pytest.fixture
def make_client(db):
    def make(username, perms=()):
        return client_for(UserFactory(username=username, perms=list(perms)))

    return make
