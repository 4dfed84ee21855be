"""The services as the admin and management commands call them, without the API's serializers."""

import uuid
from decimal import Decimal

import pytest

from common.errors import Conflict, InvalidInput, NotFound, PermissionDenied, PreconditionFailed
from procurement import services
from procurement.models import PurchaseOrder
from stock.models import StockLevel
from tests.factories import UserFactory
from tests.procurement.conftest import LOCATION, line

pytestmark = pytest.mark.django_db


def test_create_accepts_line_inputs_and_decimal_prices(supplier):
    po = services.create_purchase_order(
        supplier_id=str(supplier.supplier_id),
        line_items=[
            services.LineInput("tent", LOCATION, 2, Decimal("10.5")),
            {"item_type": " stove ", "location_id": LOCATION, "quantity": 1, "unit_price": 3},
        ],
        created_by="script",
        currency=" chf ",
    )
    po.refresh_from_db()
    assert (po.total_amount, po.currency, po.created_by) == (Decimal("24.00"), "CHF", "script")
    assert list(po.line_items.values_list("item_type", "unit_price")) == [
        ("tent", Decimal("10.50")),
        ("stove", Decimal("3.00")),
    ]


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({**line(), "unit_price": 10.5}, "line_items.0.unit_price"),
        ({**line(), "unit_price": True}, "line_items.0.unit_price"),
        ({**line(), "unit_price": "Infinity"}, "line_items.0.unit_price"),
        ({**line(), "quantity": True}, "line_items.0.quantity"),
        ({**line(), "quantity": "3"}, "line_items.0.quantity"),
        ({**line(), "item_type": None}, "line_items.0.item_type"),
        ({**line(), "location_id": None}, "line_items.0.location_id"),
        ("tent", "line_items.0"),
    ],
)
def test_create_validates_lines_itself(supplier, item, field):
    with pytest.raises(InvalidInput) as error:
        services.create_purchase_order(
            supplier_id=supplier.supplier_id, line_items=[item], created_by="script"
        )
    assert error.value.field == field
    assert PurchaseOrder.objects.count() == 0


def test_create_rejects_a_mapping_for_line_items(supplier):
    with pytest.raises(InvalidInput) as error:
        services.create_purchase_order(
            supplier_id=supplier.supplier_id, line_items={"a": 1}, created_by="script"
        )
    assert error.value.field == "line_items"


@pytest.mark.parametrize("po_id", ["nope", uuid.uuid4()])
def test_unknown_po_is_not_found(operator, po_id):
    with pytest.raises(NotFound):
        services.transition_purchase_order(po_id=po_id, target_status="cancelled", user=operator)


def test_the_service_checks_the_transition_permission_itself(po_in):
    """django-fsm does not check permissions when a transition runs: the service must."""
    po = po_in("submitted")
    for user in (UserFactory(username="nobody"), UserFactory(username="clerk")):
        with pytest.raises(PermissionDenied):
            services.transition_purchase_order(po_id=po.po_id, target_status="approved", user=user)
    assert PurchaseOrder.objects.get(pk=po.pk).status == "submitted"


def test_if_match_version_takes_one_or_several_versions(po_in, operator):
    po = po_in("draft")
    with pytest.raises(PreconditionFailed):
        services.update_purchase_order(
            po_id=po.po_id, user=operator, currency="EUR", if_match_version=po.version + 1
        )
    with pytest.raises(PreconditionFailed):
        services.update_purchase_order(
            po_id=po.po_id, user=operator, currency="EUR", if_match_version=set()
        )
    updated = services.update_purchase_order(
        po_id=po.po_id, user=operator, currency="EUR", if_match_version={9, po.version}
    )
    assert updated.version == po.version + 1
    assert PurchaseOrder.objects.get(pk=po.pk).version == updated.version


def test_receive_purchase_order(po_in, operator):
    po = po_in("shipped", line_items=[line("tent", 6)])
    received = services.receive_purchase_order(po_id=po.po_id, user=operator)
    assert received.status == "received"
    assert received.received_at is not None
    assert StockLevel.objects.get(item_type="tent", location_id=LOCATION).quantity_on_hand == 6
    with pytest.raises(Conflict) as error:
        services.receive_purchase_order(po_id=po.po_id, user=operator)
    assert error.value.code == "invalid_transition"
    assert StockLevel.objects.get(item_type="tent", location_id=LOCATION).quantity_on_hand == 6


def test_a_status_in_any_case(po_in, operator):
    po = po_in("draft")
    assert services.clean_status(" Submitted ") == "submitted"
    updated = services.transition_purchase_order(
        po_id=po.po_id, target_status="SUBMITTED", user=operator
    )
    assert updated.status == "submitted"
    with pytest.raises(InvalidInput):
        services.clean_status("sent")
