"""Writes per user (contract "Tokens and limits"): beyond ``API_WRITE_RATE`` a write is a 429
``throttled`` in the error shape with ``Retry-After``; reads never count; the count is shared
by every process (a database row per user, one atomic upsert per write)."""

import pytest
from django.core.exceptions import ImproperlyConfigured
from rest_framework.test import APIClient

from accounts.models import WriteCount
from accounts.rates import parse_rate
from suppliers.models import Supplier
from tests.factories import ApiTokenFactory, UserFactory
from tests.site.test_settings import PRODUCTION, _run
from tests.stock.test_concurrency import run_together

pytestmark = pytest.mark.django_db


def supplier(n):
    return {
        "name": f"Ridge Supply {n}",
        "contact_email": f"s{n}@ridge.example",
        "lead_time_days": 5,
    }


@pytest.fixture
def limited(settings):
    settings.API_WRITE_RATE = "3/minute"


def post(client, n):
    return client.post("/suppliers", supplier(n), format="json")


def assert_throttled(response):
    assert response.status_code == 429
    body = response.json()
    assert set(body) == {"status", "code", "message"}
    assert (body["status"], body["code"]) == (429, "throttled")
    assert "throttled" in body["message"].lower()
    assert 1 <= int(response["Retry-After"]) <= 60


def test_writes_beyond_the_rate_are_429_with_retry_after_and_write_nothing(limited, make_client):
    clerk = make_client("clerk", ["suppliers.add_supplier"])
    for n in range(3):
        assert post(clerk, n).status_code == 201

    response = post(clerk, 3)

    assert_throttled(response)
    assert Supplier.objects.count() == 3
    assert WriteCount.objects.get(user=clerk.user).writes == 4


def test_reads_are_not_counted_nor_limited(limited, make_client):
    clerk = make_client("clerk", ["suppliers.add_supplier"])
    for _ in range(10):
        assert clerk.get("/suppliers").status_code == 200
    assert not WriteCount.objects.exists()
    for n in range(3):
        assert post(clerk, n).status_code == 201
    assert_throttled(post(clerk, 3))
    assert clerk.get("/suppliers").status_code == 200


def test_patch_counts_as_a_write(limited, make_client):
    clerk = make_client(
        "clerk", ["procurement.add_purchaseorder", "procurement.change_purchaseorder"]
    )
    supplier_id = str(Supplier.objects.create(**supplier(0)).pk)
    created = clerk.post(
        "/purchase-orders",
        {"supplier_id": supplier_id, "currency": "USD", "line_items": []},
        format="json",
    )
    assert created.status_code == 201, created.json()
    po = f"/purchase-orders/{created.json()['po_id']}"
    assert clerk.patch(po, {"currency": "EUR"}, format="json").status_code == 200
    assert clerk.patch(po, {"currency": "GBP"}, format="json").status_code == 200

    assert_throttled(clerk.patch(po, {"currency": "CAD"}, format="json"))
    assert clerk.get(po).json()["currency"] == "GBP"


def test_each_user_has_their_own_count(limited, make_client):
    first = make_client("first", ["suppliers.add_supplier"])
    second = make_client("second", ["suppliers.add_supplier"])
    for n in range(3):
        assert post(first, n).status_code == 201
    assert_throttled(post(first, 3))

    assert post(second, 10).status_code == 201


def test_the_count_restarts_in_the_next_window(limited, make_client):
    clerk = make_client("clerk", ["suppliers.add_supplier"])
    for n in range(4):
        post(clerk, n)
    count = WriteCount.objects.get(user=clerk.user)
    assert count.writes == 4
    WriteCount.objects.filter(pk=count.pk).update(window_start=count.window_start - 60)

    assert post(clerk, 4).status_code == 201
    assert WriteCount.objects.get(user=clerk.user).writes == 1


def test_an_empty_rate_disables_the_limit(settings, make_client):
    settings.API_WRITE_RATE = ""
    clerk = make_client("clerk", ["suppliers.add_supplier"])
    for n in range(8):
        assert post(clerk, n).status_code == 201
    assert not WriteCount.objects.exists()


def test_writes_refused_before_the_view_do_not_count(limited, make_client):
    reader = make_client("reader")
    for n in range(5):
        assert post(reader, n).status_code == 403
    assert APIClient().post("/suppliers", supplier(9), format="json").status_code == 401
    assert not WriteCount.objects.exists()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_writes_of_one_user_never_pass_the_limit(settings):
    """DRF's cache throttles lose counts here (read, append, write back); the upsert cannot."""
    settings.API_WRITE_RATE = "5/minute"
    token = ApiTokenFactory(user=UserFactory(username="burst", perms=["suppliers.add_supplier"]))
    threads = 12
    clients = [APIClient() for _ in range(threads)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    results = run_together(lambda i: post(clients[i], i).status_code, threads)

    assert sorted(results) == [201] * 5 + [429] * 7, results
    assert Supplier.objects.count() == 5
    assert WriteCount.objects.get(user=token.user).writes == 12


@pytest.mark.parametrize(
    ("rate", "parsed"),
    [
        ("600/minute", (600, 60)),
        ("20/s", (20, 1)),
        ("1000/hour", (1000, 3600)),
        ("5/day", (5, 86400)),
    ],
)
def test_rates_use_drfs_syntax(rate, parsed):
    assert parse_rate(rate) == parsed
    assert parse_rate("") is None


@pytest.mark.parametrize("rate", ["lots", "600", "600/fortnight", "0/minute", "-1/minute", "1.5/s"])
def test_a_bad_rate_is_refused(rate):
    with pytest.raises(ImproperlyConfigured, match="API_WRITE_RATE"):
        parse_rate(rate)


def test_a_bad_rate_stops_the_start_up_with_what_is_expected():
    result = _run(["manage.py", "check"], **PRODUCTION, API_WRITE_RATE="600/fortnight")
    assert result.returncode != 0
    assert "API_WRITE_RATE='600/fortnight'" in result.stderr
    assert "e.g. '600/minute'" in result.stderr
