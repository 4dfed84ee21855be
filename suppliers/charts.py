"""A supplier's lead-time chart, drawn from its lead-time history."""

from datetime import timedelta

from django.utils import timezone

from common.charts import BLUE, GREY, ORANGE, Series, time_chart
from suppliers.selectors import lead_time_history


def lead_time_chart(supplier, *, today=None):
    """Each receipt's actual lead time, the learned lead time after it, and the declared one
    (one query, whatever the number of receipts)."""
    history = lead_time_history(supplier_id=supplier.supplier_id)
    today = today or timezone.localdate()
    days = [timezone.localdate(received_at) for received_at, *_ in history]
    start = min(days[0], today - timedelta(days=30)) if days else today - timedelta(days=90)
    actual = [
        (day, round(lead_time, 2)) for day, (_, lead_time, _, _) in zip(days, history, strict=True)
    ]
    learned = [
        (day, float(expected)) for day, (_, _, expected, _) in zip(days, history, strict=True)
    ]
    if learned:
        learned.append((today, learned[-1][1]))
    declared = supplier.lead_time_days
    return time_chart(
        chart_id=f"supplier-{supplier.supplier_id}-lead-times",
        title="Lead times: observed and learned",
        description=(
            f"{supplier.name}: the actual lead time of each of its {len(history)} received "
            f"purchase orders (approval to receipt), the lead time learned after each receipt "
            f"(now {supplier.expected_lead_time_days or declared} days) and the declared "
            f"{declared} days."
        ),
        start=start,
        end=today,
        series=[
            Series(
                name="Observed",
                points=actual,
                kind="dots",
                color=BLUE,
                tooltips=[
                    f"Received {day:%d %b %Y}: {lead_time:.1f} days" for day, lead_time in actual
                ],
            ),
            Series(
                name="Learned",
                points=learned,
                kind="step",
                color=ORANGE,
                tooltips=[
                    f"Learned after {count} receipt(s): {expected} days"
                    for (_, _, expected, count) in history
                ]
                + (["Learned now"] if learned else []),
            ),
            Series(
                name="Declared",
                points=[(start, declared), (today, declared)],
                kind="line",
                color=GREY,
                dashed=True,
                tooltips=[f"Declared: {declared} days"] * 2,
                reference=True,
            ),
        ],
        y_label="Days",
        x_label="Day received",
        empty_message="No purchase order received from this supplier yet.",
    )
