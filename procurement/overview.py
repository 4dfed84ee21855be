"""The reads behind the admin's "Replenishment overview": levels at or below their reorder point
by location, days of cover, and the deliveries expected in the next 14 days. Six queries
whatever the number of levels, locations and purchase orders."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Case, Count, F, FloatField, Q, Sum, When
from django.db.models.functions import Cast
from django.utils import timezone

from common.charts import BLUE, GREEN, GREY, SKY, VERMILLION, Bars, bar_chart
from procurement.models import POLineItem, PurchaseOrder
from procurement.selectors import ON_ORDER_STATUSES
from stock.models import StockLevel

LOCATIONS_SHOWN = 12
DELIVERY_DAYS = 14
LEAST_COVER_SHOWN = 10
DELIVERIES_LISTED = 30
# (label, lowest days of cover, below this many); on hand 0 is "out of stock" whatever the demand.
COVER_BUCKETS = [
    ("< 7 days", 0, 7),
    ("7-14", 7, 14),
    ("14-30", 14, 30),
    ("30-60", 30, 60),
    ("60+", 60, None),
]


@dataclass(frozen=True)
class Overview:
    today: object
    levels: int
    below: int
    by_location: list  # (location_id, levels, below)
    out_of_stock: int
    cover_buckets: list  # (label, count)
    no_demand: int
    least_cover: list  # StockLevel with .cover, .mean_daily_demand
    deliveries_by_day: dict  # day -> (orders, units); days before today under "overdue"
    deliveries: list  # PurchaseOrder with .units


def _cover():
    """Days the level's stock lasts at its latest calculated mean daily demand (null without
    a calculated demand)."""
    return Case(
        When(
            reorder_calculation__mean_daily_demand__gt=0,
            then=Cast("quantity_on_hand", FloatField())
            / F("reorder_calculation__mean_daily_demand"),
        ),
        default=None,
        output_field=FloatField(),
    )


def replenishment_overview(*, today=None):
    today = today or timezone.localdate()
    below = Q(quantity_on_hand__lte=F("reorder_point"))
    totals = StockLevel.objects.aggregate(levels=Count("pk"), below=Count("pk", filter=below))
    by_location = list(
        StockLevel.objects.values("location_id")
        .annotate(levels=Count("pk"), below=Count("pk", filter=below))
        .filter(below__gt=0)
        .order_by("-below", "location_id")
        .values_list("location_id", "levels", "below")[:LOCATIONS_SHOWN]
    )
    covered = StockLevel.objects.annotate(cover=_cover())
    with_demand = Q(cover__isnull=False, quantity_on_hand__gt=0)
    buckets = {"out": Count("pk", filter=Q(quantity_on_hand=0))}
    buckets["no_demand"] = Count("pk", filter=Q(cover__isnull=True, quantity_on_hand__gt=0))
    for index, (_, low, high) in enumerate(COVER_BUCKETS):
        condition = with_demand & Q(cover__gte=low)
        if high is not None:
            condition &= Q(cover__lt=high)
        buckets[f"bucket_{index}"] = Count("pk", filter=condition)
    cover = covered.aggregate(**buckets)
    least_cover = list(
        covered.filter(cover__isnull=False)
        .annotate(mean_daily_demand=F("reorder_calculation__mean_daily_demand"))
        .order_by("cover", "item_type", "location_id")[:LEAST_COVER_SHOWN]
    )
    horizon = today + timedelta(days=DELIVERY_DAYS)
    expected = Q(
        purchase_order__status__in=ON_ORDER_STATUSES,
        purchase_order__expected_delivery_date__lt=horizon,
    )
    deliveries_by_day = {}
    for day, orders, units in (
        POLineItem.objects.filter(expected)
        .values("purchase_order__expected_delivery_date")
        .annotate(orders=Count("purchase_order", distinct=True), units=Sum("quantity"))
        .values_list("purchase_order__expected_delivery_date", "orders", "units")
    ):
        key = "overdue" if day < today else day
        known_orders, known_units = deliveries_by_day.get(key, (0, 0))
        deliveries_by_day[key] = (known_orders + orders, known_units + units)
    deliveries = list(
        PurchaseOrder.objects.filter(
            status__in=ON_ORDER_STATUSES, expected_delivery_date__lt=horizon
        )
        .select_related("supplier")
        .annotate(units=Sum("line_items__quantity"))
        .order_by("expected_delivery_date", "po_id")[:DELIVERIES_LISTED]
    )
    return Overview(
        today=today,
        levels=totals["levels"],
        below=totals["below"],
        by_location=by_location,
        out_of_stock=cover["out"],
        cover_buckets=[
            (label, cover[f"bucket_{index}"]) for index, (label, _, _) in enumerate(COVER_BUCKETS)
        ],
        no_demand=cover["no_demand"],
        least_cover=least_cover,
        deliveries_by_day=deliveries_by_day,
        deliveries=deliveries,
    )


def overview_charts(overview):
    """The overview's three charts, as SVG."""
    locations = [str(location)[:8] for location, _, _ in overview.by_location]
    below_chart = bar_chart(
        chart_id="overview-below-by-location",
        title="Levels at or below their reorder point, by location",
        description=(
            f"{overview.below} of {overview.levels} stock levels are at or below their reorder "
            f"point; the {len(locations)} locations with the most are shown, with their number "
            "of levels."
        ),
        categories=locations,
        series=[
            Bars(
                "At or below the point", [below for _, _, below in overview.by_location], VERMILLION
            ),
            Bars("Levels", [levels for _, levels, _ in overview.by_location], GREY),
        ],
        y_label="Stock levels",
        x_label="Location (first 8 characters of its id)",
        empty_message="No level is at or below its reorder point.",
    )
    cover_labels = ["Out of stock", *[label for label, _ in overview.cover_buckets], "No demand"]
    cover_values = [
        overview.out_of_stock,
        *[count for _, count in overview.cover_buckets],
        overview.no_demand,
    ]
    cover_chart = bar_chart(
        chart_id="overview-days-of-cover",
        title="Days of cover",
        description=(
            "Stock levels by the days their stock on hand lasts at the mean daily demand of their "
            f"latest reorder-point calculation: {overview.out_of_stock} out of stock, "
            f"{overview.no_demand} without a calculated demand."
        ),
        categories=cover_labels,
        series=[Bars("Stock levels", cover_values, BLUE)],
        y_label="Stock levels",
        x_label="Days of cover",
        empty_message="No stock level yet.",
    )
    days = [overview.today + timedelta(days=offset) for offset in range(DELIVERY_DAYS)]
    keys = ["overdue", *days]
    by_day = overview.deliveries_by_day
    delivery_chart = bar_chart(
        chart_id="overview-deliveries",
        title=f"Deliveries expected in the next {DELIVERY_DAYS} days",
        description=(
            f"Units on approved or shipped purchase orders by expected delivery date, from "
            f"{days[0]:%d %b} to {days[-1]:%d %b}, with those already overdue first: "
            f"{sum(units for _, units in by_day.values())} units on "
            f"{sum(orders for orders, _ in by_day.values())} purchase orders."
        ),
        categories=["Overdue", *[f"{day:%a %d}" for day in days]],
        series=[
            Bars("Units", [by_day.get(key, (0, 0))[1] for key in keys], GREEN, "units"),
            Bars("Purchase orders", [by_day.get(key, (0, 0))[0] for key in keys], SKY),
        ],
        y_label="Units / purchase orders",
        x_label="Expected delivery date",
        empty_message=f"No delivery expected in the next {DELIVERY_DAYS} days.",
    )
    return {"below": below_chart, "cover": cover_chart, "deliveries": delivery_chart}
