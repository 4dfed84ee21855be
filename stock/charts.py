"""A stock level's charts, drawn from its ledger and its reorder-point calculations."""

from django.utils.html import format_html

from common.charts import BLUE, ORANGE, VERMILLION, Series, time_chart
from stock.selectors import level_history

HISTORY_DAYS = 180


def level_charts(level, *, today=None):
    """On hand at each day's end with the reorder point, and the units consumed per day, over
    the last ``HISTORY_DAYS`` days (two queries)."""
    history = level_history(level=level, days=HISTORY_DAYS, today=today)
    start, end = history.days[0], history.days[-1]
    chart_id = f"level-{level.stock_id}"
    on_hand = time_chart(
        chart_id=f"{chart_id}-on-hand",
        title=f"On hand and reorder point, last {HISTORY_DAYS} days",
        description=(
            f"{level.item_type} at {level.location_id}: units on hand at the end of each day from "
            f"{start:%d %b %Y} to {end:%d %b %Y} (now {level.quantity_on_hand}), against the "
            f"reorder point (now {level.reorder_point})."
        ),
        start=start,
        end=end,
        series=[
            Series(
                name="On hand",
                points=list(zip(history.days, history.on_hand, strict=True)),
                kind="step",
                color=BLUE,
                unit="units",
            ),
            Series(
                name="Reorder point",
                points=history.reorder_points,
                kind="step",
                color=VERMILLION,
                dashed=True,
                unit="units",
            ),
        ],
        y_label="Units",
    )
    consumed = time_chart(
        chart_id=f"{chart_id}-consumption",
        title="Consumption per day",
        description=(
            f"Units of {level.item_type} consumed at {level.location_id} each day from "
            f"{start:%d %b %Y} to {end:%d %b %Y}: {sum(history.consumed)} in all."
        ),
        start=start,
        end=end,
        series=[
            Series(
                name="Consumed",
                points=[
                    (day, units)
                    for day, units in zip(history.days, history.consumed, strict=True)
                    if units
                ],
                kind="bars",
                color=ORANGE,
                unit="units",
            )
        ],
        y_label="Units per day",
        height=200,
        empty_message="No consumption recorded in this period.",
    )
    return format_html('<div class="planning-charts">{}{}</div>', on_hand, consumed)
