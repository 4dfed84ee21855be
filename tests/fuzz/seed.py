"""The rows the fuzzed server starts with, under fixed ids.

The ids are those of the OpenAPI examples (so that the examples phase hits real rows) and those
listed in ``schemathesis.toml``'s dictionaries (so that generated ids often name a real row).
``tests/fuzz/test_harness.py`` keeps the two in step.
"""

import uuid
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from rest_framework.authtoken.models import Token

from procurement import services as po_services
from procurement.models import POStatus
from stock.models import AdjustmentReason
from stock.services import record_adjustment
from tests.factories import POLineItemFactory, PurchaseOrderFactory, SupplierFactory
from tests.stock.factories import stocked_level

FUZZ_USERNAME = "fuzzer"
# Creates the seeded purchase orders, so that the fuzzer (not their creator) may approve them.
BUYER_USERNAME = "fuzz-buyer"
SERVICE_APPS = ("suppliers", "stock", "procurement")

ACTIVE_SUPPLIER_ID = uuid.UUID("7d1f2c64-5a7e-4c39-9a53-3b8e2f0c1a11")
INACTIVE_SUPPLIER_ID = uuid.UUID("3c9e5a71-0d24-4b8f-9e6a-51f7c2d8b903")
PO_LOCATION_ID = uuid.UUID("2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b")
STOCK_LOCATION_ID = uuid.UUID("0b6e2f4a-91c3-4d8e-a7f0-5c2b9e1d3a64")
STOCKED_LEVEL_ID = uuid.UUID("6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10")
LOW_LEVEL_ID = uuid.UUID("a4d7e2b9-6c15-4f38-b0e1-9d3c7a5f2e48")
# Three purchase orders in each status the fuzzer can act on (the stateful walk uses them up).
PO_IDS = {
    POStatus.DRAFT: [
        uuid.UUID("1e8b4c2d-7f3a-4d69-8c05-b2a9e6f41d37"),
        uuid.UUID("ea692e71-3953-402f-aeb1-d59c272ce734"),
        uuid.UUID("31f03a05-7d58-4439-a035-c07a31ad6a99"),
    ],
    POStatus.SUBMITTED: [
        uuid.UUID("5b2f9d6e-3a81-4c7b-9e24-d0c8f1a7b365"),
        uuid.UUID("0f058969-74cb-4cf2-beb2-0102b98cb13c"),
        uuid.UUID("f06391d2-75d0-4fd9-bc52-74001754606c"),
    ],
    POStatus.APPROVED: [
        uuid.UUID("9c4a1f7e-2d6b-4e83-a5f0-7b3e9d2c6a14"),
        uuid.UUID("9feb7bce-f77f-455b-bddc-8275f7d40ef2"),
        uuid.UUID("2c03bb55-cac5-4a01-9a42-67db924f54c2"),
    ],
    POStatus.SHIPPED: [
        uuid.UUID("d3e6b8a1-5f2c-4a97-8d1e-6c4b0f9a7e52"),
        uuid.UUID("f08b1d54-aef1-486f-ba8f-5151c5e74bb1"),
        uuid.UUID("59ad45f9-1cb9-4df8-9246-d6a3bae28e33"),
    ],
}
WALK = {
    POStatus.DRAFT: [],
    POStatus.SUBMITTED: [POStatus.SUBMITTED],
    POStatus.APPROVED: [POStatus.SUBMITTED, POStatus.APPROVED],
    POStatus.SHIPPED: [POStatus.SUBMITTED, POStatus.APPROVED, POStatus.SHIPPED],
}


def seed():
    """Create the fuzz user (every permission of the service, not a superuser) with a token, and
    the seeded rows. Returns the token's key."""
    user_model = get_user_model()
    service_perms = Permission.objects.filter(content_type__app_label__in=SERVICE_APPS)
    fuzzer = user_model.objects.create_user(FUZZ_USERNAME, is_superuser=False)
    fuzzer.user_permissions.set(service_perms)
    buyer = user_model.objects.create_user(BUYER_USERNAME)
    buyer.user_permissions.set(service_perms)
    operator = user_model.objects.create_user("fuzz-operator")
    operator.user_permissions.set(service_perms)

    supplier = SupplierFactory(
        supplier_id=ACTIVE_SUPPLIER_ID, name="Summit Gear Supply", lead_time_days=7
    )
    SupplierFactory(
        supplier_id=INACTIVE_SUPPLIER_ID, name="Closed Outfitters", lead_time_days=10, active=False
    )

    stocked_level(
        1000,
        stock_id=STOCKED_LEVEL_ID,
        item_type="tent-4p",
        location_id=STOCK_LOCATION_ID,
        reorder_point=5,
    )
    stocked_level(
        2,
        stock_id=LOW_LEVEL_ID,
        item_type="stove",
        location_id=STOCK_LOCATION_ID,
        reorder_point=10,
        reorder_quantity=30,
    )
    record_adjustment(
        reason=AdjustmentReason.CONSUMPTION,
        adjusted_by=BUYER_USERNAME,
        stock_id=LOW_LEVEL_ID,
        quantity_delta=-1,
    )

    for status, po_id in ((status, po_id) for status, ids in PO_IDS.items() for po_id in ids):
        po = PurchaseOrderFactory(
            po_id=po_id,
            supplier=supplier,
            created_by=BUYER_USERNAME,
            total_amount=Decimal("1799.88"),
        )
        POLineItemFactory(
            purchase_order=po,
            line_number=1,
            item_type="tent-2p",
            location_id=PO_LOCATION_ID,
            quantity=12,
            unit_price=Decimal("149.99"),
        )
        for step in WALK[status]:
            # The buyer submits, the operator (who did not shape it) approves: separation of
            # duties.
            po_services.transition_purchase_order(
                po_id=po_id,
                target_status=step,
                user=buyer if step == POStatus.SUBMITTED else operator,
                reason="seeded",
            )

    return Token.objects.create(user=fuzzer).key


def main():
    """``manage.py shell -c``: seed in one transaction and print the token's key."""
    with transaction.atomic():
        key = seed()
    print(key)
