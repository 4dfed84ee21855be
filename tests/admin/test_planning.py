"""The planner's admin: charts on a stock level and on a supplier, the replenishment overview,
the seasonal working, and the PO list's overdue warning."""

import html
import re
import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procurement.models import PurchaseOrder
from stock.models import StockLevel
from suppliers.models import LeadTimeObservation
from tests.admin.conftest import admin_client, line
from tests.admin.factories import ReorderPointCalculationFactory
from tests.factories import StockLevelFactory, SupplierFactory, UserFactory
from tests.replenishment.factories import consume

pytestmark = pytest.mark.django_db

OVERVIEW = reverse("admin-replenishment-overview")
PO_LIST = reverse("admin:procurement_purchaseorder_changelist")


def _svgs(content):
    return re.findall(r'<svg [^>]*class="chart".*?</svg>', content, flags=re.S)


def _points(svg):
    return len(re.findall(r'class="data-point"', svg))


def _queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


# --- the stock level's charts ------------------------------------------------------------------


def _level_with_history(days, calculations):
    now = timezone.now()
    level = StockLevelFactory(
        item_type="tent-2p", location_id=uuid.uuid4(), reorder_point=12, quantity_on_hand=40
    )
    consume(level, {days_ago: 2 for days_ago in range(1, days + 1)}, now=now)
    for index in range(calculations):
        ReorderPointCalculationFactory(
            stock=level,
            computed_at=now - timedelta(days=index * 7 + 1),
            previous_reorder_point=10 + index,
            reorder_point=11 + index,
        )
    return level


def test_the_level_page_charts_on_hand_the_point_and_consumption(warehouse):
    level = _level_with_history(days=30, calculations=2)
    url = reverse("admin:stock_stocklevel_change", args=[level.pk])

    content = warehouse.get(url).content.decode()

    on_hand, consumed = _svgs(content)
    assert 'role="img"' in on_hand
    assert "<title " in on_hand and "<desc " in on_hand
    assert "On hand and reorder point, last 180 days" in on_hand
    assert 'data-series="On hand"' in on_hand and 'data-series="Reorder point"' in on_hand
    assert 'class="axis-label"' in on_hand
    assert _points(on_hand) >= 180  # a marker per day of on hand
    # today's on hand is 40; 30 days ago, before 60 units went, it was 100
    assert "On hand, " + timezone.localdate().isoformat() + ": 40 units" in on_hand
    start = timezone.localdate() - timedelta(days=179)
    assert f"On hand, {start.isoformat()}: 100 units" in on_hand
    assert "Consumption per day" in consumed
    assert _points(consumed) == 30
    assert "style=" not in content.split("<svg", 1)[1].rsplit("</svg>", 1)[0]
    assert "<script" not in "".join(_svgs(content))


def test_the_level_page_runs_the_same_queries_whatever_the_history(warehouse):
    short = _level_with_history(days=3, calculations=1)
    long = _level_with_history(days=170, calculations=12)

    few, _ = _queries(warehouse, reverse("admin:stock_stocklevel_change", args=[short.pk]))
    many, content = _queries(warehouse, reverse("admin:stock_stocklevel_change", args=[long.pk]))

    assert few == many
    assert _points(_svgs(content)[1]) == 170


def test_the_level_page_shows_the_seasonal_working(warehouse):
    level = StockLevelFactory(item_type="shell", location_id=uuid.uuid4())
    calculation = ReorderPointCalculationFactory(
        stock=level,
        method="seasonal",
        seasonal_sample_days=28,
        seasonal_base_demand=5.0,
        seasonal_base_stddev=1.018,
        seasonal_window_total=180,
        seasonal_window_total_last_year=90,
        seasonal_trend=2.0,
        mean_daily_demand=10.0,
    )
    StockLevel.objects.filter(pk=level.pk).update(reorder_calculation=calculation)

    content = html.unescape(
        warehouse.get(reverse("admin:stock_stocklevel_change", args=[level.pk])).content.decode()
    )

    assert "Seasonal (the same days one year earlier, times the trend)" in content
    assert "5.000 units/day (s.d. 1.018) over 28 days around the same dates" in content
    assert "2.000 = 180 units over the last 90 days / 90 a year earlier" in content
    assert "10.000 units/day" in content


# --- the supplier's lead-time chart ------------------------------------------------------------


def _supplier_with_receipts(count):
    supplier = SupplierFactory(name="Summit Gear", lead_time_days=7, expected_lead_time_days=8)
    now = timezone.now()
    LeadTimeObservation.objects.bulk_create(
        [
            LeadTimeObservation(
                supplier=supplier,
                po_id=uuid.uuid4(),
                received_at=now - timedelta(days=10 * (count - index)),
                actual_lead_time_days=6 + index % 4,
                expected_lead_time_days=7 + index * 0.1,
                lead_time_stddev_days=1,
                receipts_count=index + 1,
            )
            for index in range(count)
        ]
    )
    return supplier


def test_the_supplier_page_charts_each_lead_time_and_the_learned_one(clerk):
    supplier = _supplier_with_receipts(5)

    content = clerk.get(reverse("admin:suppliers_supplier_change", args=[supplier.pk])).content
    [chart] = _svgs(content.decode())

    assert "Lead times: observed and learned" in chart
    observed = re.search(r'data-series="Observed">(.*?)</g>', chart, flags=re.S).group(1)
    assert _points(observed) == 5
    assert "days" in chart and "Day received" in chart
    learned = re.search(r'data-series="Learned">(.*?)</g>', chart, flags=re.S).group(1)
    assert "Learned after 5 receipt(s): 7.400 days" in learned
    assert 'data-series="Declared"' in chart


def test_the_supplier_page_runs_the_same_queries_whatever_the_history(clerk):
    few_supplier, many_supplier = _supplier_with_receipts(2), _supplier_with_receipts(40)

    few, _ = _queries(clerk, reverse("admin:suppliers_supplier_change", args=[few_supplier.pk]))
    many, content = _queries(
        clerk, reverse("admin:suppliers_supplier_change", args=[many_supplier.pk])
    )

    assert few == many
    observed = re.search(r'data-series="Observed">(.*?)</g>', content, flags=re.S).group(1)
    assert _points(observed) == 40


def test_a_supplier_without_receipts_says_so(clerk):
    supplier = SupplierFactory(name="New Gear")
    content = clerk.get(reverse("admin:suppliers_supplier_change", args=[supplier.pk])).content
    assert "No purchase order received from this supplier yet." in content.decode()


# --- the replenishment overview ----------------------------------------------------------------


def _overview_data(levels, make_po):
    location = uuid.uuid4()
    for index in range(levels):
        level = StockLevelFactory(
            item_type=f"item-{index}",
            location_id=location,
            quantity_on_hand=index,
            reorder_point=3,
        )
        calculation = ReorderPointCalculationFactory(stock=level, mean_daily_demand=1.0)
        StockLevel.objects.filter(pk=level.pk).update(reorder_calculation=calculation)
    for _ in range(levels):
        po = make_po("approved", line_items=[line(quantity=4)])
        PurchaseOrder.objects.filter(pk=po.pk).update(
            expected_delivery_date=timezone.localdate() + timedelta(days=2)
        )
    return location


def test_the_overview_draws_its_three_charts(approver, make_po):
    location = _overview_data(6, make_po)
    late = make_po("shipped", line_items=[line(quantity=5)])
    PurchaseOrder.objects.filter(pk=late.pk).update(
        expected_delivery_date=timezone.localdate() - timedelta(days=3)
    )

    response = approver.get(OVERVIEW)

    assert response.status_code == 200
    content = response.content.decode()
    below, cover, deliveries = _svgs(content)
    # levels with 0, 1, 2, 3 on hand are at or below their point of 3
    summary = " ".join(html.unescape(content).split())
    assert "4 of 6 stock levels at or below their reorder point; 1 out of stock." in summary
    assert f"At or below the point, {str(location)[:8]}: 4" in below
    assert "Stock levels, Out of stock: 1" in cover
    assert "Stock levels, &lt; 7 days: 5" in cover
    today = timezone.localdate()
    in_two_days = (today + timedelta(days=2)).strftime("%a %d")
    assert f"Units, {in_two_days}: 24 units" in deliveries
    assert "Units, Overdue: 5 units" in deliveries
    assert "Purchase orders, Overdue: 1" in deliveries
    assert all(_points(svg) > 0 for svg in (below, cover, deliveries))
    assert "overdue" in content  # the late PO is marked in the list
    assert response.context["overview"].least_cover[0].quantity_on_hand == 0


def test_the_overview_runs_the_same_queries_whatever_the_data(approver, make_po):
    _overview_data(2, make_po)
    few, _ = _queries(approver, OVERVIEW)
    _overview_data(9, make_po)
    many, _ = _queries(approver, OVERVIEW)
    assert few == many


def test_the_overview_needs_the_view_permissions(staff):
    nobody = staff("nobody")
    assert nobody.get(OVERVIEW).status_code == 403
    viewer = UserFactory(username="viewer", is_staff=True)
    viewer.user_permissions.add(
        Permission.objects.get(codename="view_stocklevel"),
        Permission.objects.get(codename="view_purchaseorder"),
    )
    assert admin_client(viewer).get(OVERVIEW).status_code == 200


def test_the_overview_is_for_staff_only(client):
    response = client.get(OVERVIEW)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_admin_home_links_to_the_overview(approver, staff):
    assert OVERVIEW in approver.get(reverse("admin:index")).content.decode()
    assert OVERVIEW not in staff("nobody").get(reverse("admin:index")).content.decode()


def test_an_empty_overview_says_there_is_nothing(approver):
    content = approver.get(OVERVIEW).content.decode()
    assert "No level is at or below its reorder point." in content
    assert "No delivery expected in the next 14 days." in content


# --- the PO list's overdue column ----------------------------------------------------------------


def test_the_po_list_warns_of_an_overdue_po_and_leaves_the_others_blank(approver, make_po):
    late, on_time = make_po("approved"), make_po("approved")
    today = timezone.localdate()
    PurchaseOrder.objects.filter(pk=late.pk).update(
        expected_delivery_date=today - timedelta(days=1)
    )
    PurchaseOrder.objects.filter(pk=on_time.pk).update(
        expected_delivery_date=today + timedelta(days=1)
    )

    content = approver.get(PO_LIST).content.decode()

    rows = {
        po: re.search(rf"PO {str(po.pk)[:8]}.*?</tr>", content, flags=re.S).group(0)
        for po in (late, on_time)
    }
    overdue_cell = re.search(r'<td class="field-overdue">(.*?)</td>', rows[late], re.S).group(1)
    assert "icon-alert.svg" in overdue_cell and "Overdue" in overdue_cell
    on_time_cell = re.search(r'<td class="field-overdue">(.*?)</td>', rows[on_time], re.S).group(1)
    assert "Overdue" not in on_time_cell
    assert "icon-yes" not in content and "icon-no" not in content
