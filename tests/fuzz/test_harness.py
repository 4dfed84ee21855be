"""The fuzz harness itself: its seed and its schemathesis settings agree with each other and with
the OpenAPI examples. (The fuzz run is ``python -m tests.fuzz.run``, from ``make test``.)"""

import tomllib
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from accounts.selectors import api_token_for_key
from procurement.models import POStatus, PurchaseOrder
from stock.models import ReorderAlert, StockLevel
from suppliers.models import Supplier
from tests.fuzz import run, seed

CONFIG = tomllib.loads((Path(__file__).with_name("schemathesis.toml")).read_text())


def dictionary(name):
    return CONFIG["dictionaries"][name]["values"]


def test_the_dictionaries_name_the_seeded_rows():
    assert dictionary("po_ids") == [str(i) for ids in seed.PO_IDS.values() for i in ids]
    assert set(dictionary("supplier_ids")) == {
        str(seed.ACTIVE_SUPPLIER_ID),
        str(seed.INACTIVE_SUPPLIER_ID),
    }
    assert set(dictionary("location_ids")) == {
        str(seed.PO_LOCATION_ID),
        str(seed.STOCK_LOCATION_ID),
    }
    assert dictionary("line_item_ids") == [
        str(seed.line_item_id(po_id))
        for status in (POStatus.APPROVED, POStatus.SHIPPED)
        for po_id in seed.PO_IDS[status]
    ]
    for binding in CONFIG["parameters"].values():
        assert binding["dictionary"] in CONFIG["dictionaries"]


def test_every_check_runs_and_the_token_goes_in_the_documented_scheme():
    assert CONFIG["checks"]["enabled"] is True
    assert CONFIG["auth"]["openapi"]["tokenAuth"]["api_key"] == "Token ${FUZZ_API_TOKEN}"
    assert CONFIG["hooks"] == "tests.fuzz.hooks"


@pytest.mark.django_db
def test_seed_creates_a_fuzz_user_with_every_permission_of_the_service_and_real_rows():
    key = seed.seed()

    token = api_token_for_key(key=key)
    user = token.user
    assert (user.username, user.is_superuser, user.is_staff) == (seed.FUZZ_USERNAME, False, False)
    service_perms = Permission.objects.filter(content_type__app_label__in=seed.SERVICE_APPS)
    assert set(user.user_permissions.all()) == set(service_perms)
    assert user.has_perm("procurement.approve_purchaseorder")

    assert Supplier.objects.get(pk=seed.ACTIVE_SUPPLIER_ID).active
    assert not Supplier.objects.get(pk=seed.INACTIVE_SUPPLIER_ID).active
    assert StockLevel.objects.get(pk=seed.STOCKED_LEVEL_ID).quantity_on_hand == 1000
    assert ReorderAlert.objects.filter(stock_id=seed.LOW_LEVEL_ID, resolved_at=None).exists()
    for status, ids in seed.PO_IDS.items():
        for po in PurchaseOrder.objects.filter(pk__in=ids):
            assert (po.status, po.created_by) == (status, seed.BUYER_USERNAME)
        assert len(ids) == 3

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = client.get(f"/purchase-orders/{seed.PO_IDS[POStatus.SUBMITTED][0]}").json()
    # The fuzz user did not create the seeded orders: it may approve them.
    assert body["available_transitions"] == ["approved", "rejected", "cancelled"]


def test_schema_examples_name_seeded_rows(client):
    schema = client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    create = schema["paths"]["/purchase-orders"]["post"]["requestBody"]["content"]
    example = next(iter(create["application/json"]["examples"].values()))["value"]
    assert example["supplier_id"] == str(seed.ACTIVE_SUPPLIER_ID)
    assert {line["location_id"] for line in example["line_items"]} == {str(seed.PO_LOCATION_ID)}
    adjust = schema["paths"]["/stock-adjustments"]["post"]["requestBody"]["content"]
    ids = {e["value"].get("stock_id") for e in adjust["application/json"]["examples"].values()}
    assert str(seed.STOCKED_LEVEL_ID) in ids


@pytest.mark.parametrize(
    ("argv", "examples", "st_args"),
    [
        ([], 100, []),
        (["--max-examples", "500", "--"], 500, []),
        (["--", "--phases", "stateful"], 100, ["--phases", "stateful"]),
    ],
)
def test_run_arguments(monkeypatch, argv, examples, st_args):
    monkeypatch.delenv("FUZZ_EXAMPLES", raising=False)
    monkeypatch.setenv("FUZZ_SEED", "7")

    args = run._parse(argv)

    assert (args.max_examples, args.seed, args.st_args) == (examples, 7, st_args)


def test_server_errors_are_read_from_the_json_log(tmp_path):
    log = tmp_path / "server.log"
    log.write_text(
        '{"level": "WARNING", "status": 404}\n'
        "[plain text line]\n"
        '{"level": "INFO", "status": 503}\n'
        '{"level": "ERROR", "message": "database error"}\n'
    )

    errors = run._server_errors(log)

    assert errors == [
        '{"level": "INFO", "status": 503}',
        '{"level": "ERROR", "message": "database error"}',
    ]
