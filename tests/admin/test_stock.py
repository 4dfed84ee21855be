import html
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from stock import services
from stock.models import AdjustmentReason, ReorderAlert, StockAdjustment, StockLevel
from tests.admin.conftest import messages_of
from tests.admin.factories import ReorderPointCalculationFactory
from tests.factories import StockLevelFactory

pytestmark = pytest.mark.django_db

LEVELS = reverse("admin:stock_stocklevel_changelist")
ADD_LEVEL = reverse("admin:stock_stocklevel_add")
LEDGER = reverse("admin:stock_stockadjustment_changelist")
LOCATION = uuid.UUID("0b7d6c5e-4f3a-4b2c-9d1e-0f9a8b7c6d5e")


def change_url(level):
    return reverse("admin:stock_stocklevel_change", args=[level.pk])


def adjust_url(level):
    return reverse("admin:stock_stocklevel_adjust", args=[level.pk])


def stocked(quantity, item_type="tent-2p", reorder_point=5, reorder_quantity=20):
    """A level holding ``quantity`` through a receipt, as stock arrives in real life."""
    level = StockLevelFactory(
        item_type=item_type,
        location_id=LOCATION,
        reorder_point=reorder_point,
        reorder_quantity=reorder_quantity,
    )
    if quantity:
        services.record_adjustment(
            reason="receipt", adjusted_by="setup", stock_id=level.pk, quantity_delta=quantity
        )
    level.refresh_from_db()
    return level


# --- levels ----------------------------------------------------------------------------------


def test_the_below_reorder_point_filter_compares_with_each_levels_own_point(warehouse):
    below = stocked(2, "tent-2p", reorder_point=5)
    at = stocked(5, "stove", reorder_point=5)
    above = stocked(10, "lantern", reorder_point=5)

    def listed(query):
        response = warehouse.get(LEVELS, query)
        assert response.status_code == 200
        return {level.pk for level in response.context["cl"].result_list}

    assert listed({"below_reorder_point": "yes"}) == {below.pk, at.pk}
    assert listed({"below_reorder_point": "no"}) == {above.pk}
    assert listed({}) == {below.pk, at.pk, above.pk}


def test_the_level_list_costs_the_same_queries_whatever_its_length(warehouse):
    ReorderPointCalculationFactory(stock=stocked(3))
    warehouse.get(LEVELS)
    with CaptureQueriesContext(connection) as few:
        warehouse.get(LEVELS)
    for n in range(5):
        ReorderPointCalculationFactory(stock=stocked(3, f"item-{n}"))
    with CaptureQueriesContext(connection) as many:
        response = warehouse.get(LEVELS)

    assert len(response.context["cl"].result_list) == 6
    assert len(many) == len(few)


def test_the_level_page_shows_the_reorder_point_working(warehouse):
    level = stocked(3)
    calculation = ReorderPointCalculationFactory(stock=level)
    StockLevel.objects.filter(pk=level.pk).update(reorder_calculation=calculation)

    content = html.unescape(warehouse.get(change_url(level)).content.decode())

    assert "2.500 units/day" in content  # d
    assert "1.250" in content  # s_d
    assert "7.00 days (supplier of the latest po for this item type and location)" in content
    assert "0.50 days" in content  # s_L
    assert "1.645 (service level 95.0%)" in content  # z
    assert "90 days (90 days of history)" in content
    assert "= 27 (was 5)" in content
    assert calculation.computed_at.strftime("%Y-%m-%d %H:%M UTC") in content
    listed = warehouse.get(LEVELS)
    assert "Calculated point" in listed.content.decode()
    assert listed.context["cl"].result_list[0].reorder_calculation == calculation


def test_a_skipped_calculation_says_why(warehouse):
    level = stocked(3)
    calculation = ReorderPointCalculationFactory(
        stock=level, reorder_point=None, skipped_reason="short_history"
    )
    StockLevel.objects.filter(pk=level.pk).update(reorder_calculation=calculation)

    content = warehouse.get(change_url(level)).content.decode()

    assert "fewer than 14 days of history. The point was left at 5." in content


def test_a_level_never_calculated_says_so(warehouse):
    content = warehouse.get(change_url(stocked(3))).content.decode()

    assert "Not calculated yet: run manage.py recalculate_reorder_points." in content


def level_form(level, **values):
    data = {"reorder_point": level.reorder_point, "reorder_quantity": level.reorder_quantity}
    return data | values


def test_editing_the_reorder_point_goes_through_the_service_and_its_alerts(warehouse):
    level = stocked(8, reorder_point=5)
    assert not ReorderAlert.objects.exists()

    response = warehouse.post(change_url(level), level_form(level, reorder_point=10))

    assert response.status_code == 302
    level.refresh_from_db()
    assert (level.reorder_point, level.quantity_on_hand) == (10, 8)
    alert = ReorderAlert.objects.get()
    assert alert.is_open

    warehouse.post(change_url(level), level_form(level, reorder_point=3, reorder_quantity=40))
    level.refresh_from_db()
    assert (level.reorder_point, level.reorder_quantity) == (3, 40)
    alert.refresh_from_db()
    assert not alert.is_open


def test_quantity_on_hand_and_identity_cannot_be_edited(warehouse):
    level = stocked(8)

    response = warehouse.get(change_url(level))
    assert set(response.context["adminform"].form.fields) == {"reorder_point", "reorder_quantity"}

    warehouse.post(
        change_url(level),
        level_form(level, quantity_on_hand=999, item_type="other", location_id=str(uuid.uuid4())),
    )
    fresh = StockLevel.objects.get(pk=level.pk)
    assert (fresh.quantity_on_hand, fresh.item_type, fresh.location_id) == (8, "tent-2p", LOCATION)
    assert fresh.adjustments.count() == 1


def test_a_negative_reorder_point_is_a_form_error(warehouse):
    level = stocked(8)

    response = warehouse.post(change_url(level), level_form(level, reorder_point=-1))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "reorder_point": ["Ensure this value is greater than or equal to 0."]
    }
    level.refresh_from_db()
    assert level.reorder_point == 5


def test_a_new_level_starts_at_zero_with_its_alert(staff, roles):
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "root@example.com", "pw")
    root = staff("root")
    data = {
        "item_type": "kayak",
        "location_id": str(LOCATION),
        "reorder_point": 2,
        "reorder_quantity": 6,
        "quantity_on_hand": 50,
    }

    response = root.post(ADD_LEVEL, data)

    assert response.status_code == 302
    level = StockLevel.objects.get()
    assert (level.quantity_on_hand, level.reorder_point, level.reorder_quantity) == (0, 2, 6)
    assert response.url == LEVELS
    assert ReorderAlert.objects.get().stock_id == level.pk

    response = root.post(ADD_LEVEL, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert StockLevel.objects.count() == 1


def test_levels_cannot_be_deleted(warehouse, staff):
    from django.contrib.auth.models import User

    User.objects.create_superuser("root", "root@example.com", "pw")
    level = stocked(3)

    response = staff("root").post(
        reverse("admin:stock_stocklevel_delete", args=[level.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert StockLevel.objects.filter(pk=level.pk).exists()


# --- the stock-correction form ----------------------------------------------------------------


def test_the_level_page_links_to_the_correction_form_for_warehouse_staff(warehouse, approver):
    level = stocked(3)

    assert adjust_url(level) in warehouse.get(change_url(level)).content.decode()
    assert adjust_url(level) not in approver.get(change_url(level)).content.decode()


def test_the_correction_form_renders(warehouse):
    level = stocked(10)

    response = warehouse.get(adjust_url(level))

    assert response.status_code == 200
    form = response.context["form"]
    assert [value for value, _ in form.fields["reason"].choices] == [
        "correction",
        "damage",
        "receipt",
        "consumption",
        "count",
    ]
    assert 'id="quantity-on-hand">10<' in response.content.decode()


def test_a_correction_is_recorded_through_the_service(warehouse):
    level = stocked(10)

    response = warehouse.post(
        adjust_url(level),
        {"reason": "correction", "quantity_delta": "-3", "note": "Miscounted delivery"},
    )

    assert response.status_code == 302
    assert response.url == change_url(level)
    assert messages_of(response) == [
        ("success", f"Recorded manual correction of -3 for {level}: 7 on hand now.")
    ]
    level.refresh_from_db()
    assert level.quantity_on_hand == 7
    adjustment = level.adjustments.get(reason="correction")
    assert (adjustment.quantity_delta, adjustment.quantity_after) == (-3, 7)
    assert (adjustment.adjusted_by, adjustment.note) == ("warehouse", "Miscounted delivery")


def test_a_count_sets_the_quantity_and_the_count_time(warehouse):
    level = stocked(10)

    response = warehouse.post(adjust_url(level), {"reason": "count", "counted_quantity": "4"})

    assert response.status_code == 302
    level.refresh_from_db()
    assert level.quantity_on_hand == 4
    assert level.last_counted_at is not None
    adjustment = level.adjustments.get(reason="count")
    assert (adjustment.counted_quantity, adjustment.quantity_delta) == (4, -6)


def test_a_correction_that_takes_stock_below_its_point_opens_an_alert(warehouse):
    level = stocked(10, reorder_point=5)

    warehouse.post(adjust_url(level), {"reason": "damage", "quantity_delta": "-6"})

    assert ReorderAlert.objects.get(stock=level).is_open


@pytest.mark.parametrize(
    ("data", "status", "field", "message"),
    [
        ({"reason": "correction"}, 400, "quantity_delta", "A correction needs quantity_delta."),
        (
            {"reason": "correction", "quantity_delta": "0"},
            400,
            "quantity_delta",
            "quantity_delta must not be zero.",
        ),
        (
            {"reason": "damage", "quantity_delta": "2"},
            400,
            "quantity_delta",
            "quantity_delta must be negative for damage.",
        ),
        (
            {"reason": "receipt", "quantity_delta": "-2"},
            400,
            "quantity_delta",
            "quantity_delta must be positive for a receipt.",
        ),
        ({"reason": "count"}, 400, "counted_quantity", "A count needs counted_quantity."),
        (
            {"reason": "count", "counted_quantity": "3", "quantity_delta": "1"},
            400,
            "quantity_delta",
            "A count takes counted_quantity, not quantity_delta.",
        ),
        (
            {"reason": "correction", "quantity_delta": "1", "counted_quantity": "3"},
            400,
            "counted_quantity",
            "Only a count takes counted_quantity.",
        ),
        (
            {"reason": "count", "counted_quantity": "-1"},
            400,
            "counted_quantity",
            "Ensure this value is greater than or equal to 0.",
        ),
        (
            {"reason": "correction", "quantity_delta": "three"},
            400,
            "quantity_delta",
            "Enter a whole number.",
        ),
        (
            {"reason": "po_receipt", "quantity_delta": "3"},
            400,
            "reason",
            "Select a valid choice. po_receipt is not one of the available choices.",
        ),
        (
            {"reason": "correction", "quantity_delta": "1", "note": "x" * 1001},
            400,
            "note",
            "Ensure this value has at most 1000 characters (it has 1001).",
        ),
        (
            {"reason": "consumption", "quantity_delta": "-11"},
            409,
            None,
            "a change of -11 would take it below zero.",
        ),
    ],
    ids=[
        "no-amount",
        "zero",
        "positive-damage",
        "negative-receipt",
        "count-without-count",
        "count-with-delta",
        "counted-without-count",
        "negative-count",
        "not-a-number",
        "po-receipt",
        "long-note",
        "below-zero",
    ],
)
def test_invalid_corrections_are_form_errors_and_write_nothing(
    warehouse, data, status, field, message
):
    level = stocked(10)
    before = StockAdjustment.objects.count()

    response = warehouse.post(adjust_url(level), data)

    assert response.status_code == status
    form = response.context["form"]
    errors = form.errors.get(field or "__all__")
    assert errors, form.errors
    assert any(message in error for error in errors), errors
    assert StockAdjustment.objects.count() == before
    level.refresh_from_db()
    assert level.quantity_on_hand == 10
    assert "errornote" in response.content.decode()


def test_the_correction_form_needs_the_adjustment_permission(approver):
    level = stocked(10)

    response = approver.post(adjust_url(level), {"reason": "correction", "quantity_delta": "-1"})

    assert response.status_code == 403
    assert approver.get(adjust_url(level)).status_code == 403
    level.refresh_from_db()
    assert level.quantity_on_hand == 10


def test_the_correction_form_of_an_unknown_level_redirects(warehouse):
    url = reverse("admin:stock_stocklevel_adjust", args=[uuid.uuid4()])

    response = warehouse.get(url)

    assert response.status_code == 302
    [(level, _)] = messages_of(response)
    assert level == "warning"


# --- the ledger -------------------------------------------------------------------------------


def test_the_ledger_is_read_only(warehouse):
    level = stocked(10)
    adjustment = level.adjustments.get()
    change = reverse("admin:stock_stockadjustment_change", args=[adjustment.pk])
    delete = reverse("admin:stock_stockadjustment_delete", args=[adjustment.pk])

    assert warehouse.get(reverse("admin:stock_stockadjustment_add")).status_code == 403
    assert warehouse.get(change).status_code == 200  # view only
    assert warehouse.post(change, {"quantity_delta": "5", "reason": "receipt"}).status_code == 403
    assert warehouse.post(delete, {"post": "yes"}).status_code == 403
    adjustment.refresh_from_db()
    assert adjustment.quantity_delta == 10
    response = warehouse.get(LEDGER)
    assert response.context["action_form"] is None


def test_the_ledger_filters_by_reason_date_and_level(warehouse):
    level = stocked(10)
    other = stocked(4, "stove")
    services.record_adjustment(
        reason="damage", adjusted_by="w", stock_id=level.pk, quantity_delta=-2
    )

    def listed(query):
        response = warehouse.get(LEDGER, query)
        assert response.status_code == 200
        return sorted(
            (a.stock.item_type, a.reason, a.quantity_delta)
            for a in response.context["cl"].result_list
        )

    assert listed({"reason": "damage"}) == [("tent-2p", "damage", -2)]
    assert listed({"stock__stock_id__exact": other.pk}) == [("stove", "receipt", 4)]
    today = level.adjustments.first().created_at
    assert len(listed({"created_at__year": today.year, "created_at__month": today.month})) == 3
    assert listed({"q": "stove"}) == [("stove", "receipt", 4)]
    assert set(AdjustmentReason.values) >= {"damage", "receipt"}


def test_the_ledger_costs_the_same_queries_whatever_its_length(warehouse):
    level = stocked(10)
    warehouse.get(LEDGER)
    with CaptureQueriesContext(connection) as few:
        warehouse.get(LEDGER)
    for n in range(5):
        stocked(3, f"item-{n}")
        services.record_adjustment(
            reason="consumption", adjusted_by="w", stock_id=level.pk, quantity_delta=-1
        )
    with CaptureQueriesContext(connection) as many:
        response = warehouse.get(LEDGER)

    assert len(response.context["cl"].result_list) == 11
    assert len(many) == len(few)
