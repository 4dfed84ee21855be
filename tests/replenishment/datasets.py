"""Synthetic consumption histories for checking the policy with the simulator.

Every level consumes a noisy daily demand (normal around its mean, standard deviation the square
root of the mean, rounded, never negative) for ``years`` years plus a window up to yesterday,
and is supplied by one supplier with a steady declared lead time (no receipts). The seasonal
dataset's mean follows the year (a sine of amplitude ``amplitude`` around ``base``, highest in
early summer) and grows by ``growth`` a year; the stationary dataset's mean is flat.
"""

import math
import random
import uuid
from datetime import timedelta

from stock.models import AdjustmentReason, StockAdjustment
from tests.factories import StockLevelFactory, SupplierFactory
from tests.replenishment.factories import committed_po

HISTORY_DAYS = 2 * 365 + 90


def seasonal_mean(day_of_year, *, base, amplitude, growth, years_ago):
    season = 1 + amplitude * math.sin(2 * math.pi * (day_of_year - 80) / 365)
    return base * season / (1 + growth) ** years_ago


def build(
    *,
    now,
    levels=12,
    base=10.0,
    amplitude=0.0,
    growth=0.0,
    lead_time_days=7,
    reorder_quantity=140,
    item_type="tent",
    seed=17,
):
    """``levels`` levels of ``item_type`` with ``HISTORY_DAYS`` days of consumption before
    ``now``; returns them."""
    rng = random.Random(seed)
    supplier = SupplierFactory(lead_time_days=lead_time_days)
    created, rows = [], []
    today = now.date()
    for _ in range(levels):
        level = StockLevelFactory(
            item_type=item_type,
            location_id=uuid.uuid4(),
            reorder_point=0,
            reorder_quantity=reorder_quantity,
            quantity_on_hand=0,
        )
        committed_po(
            supplier=supplier,
            item_type=item_type,
            location_id=level.location_id,
            approved_at=now - timedelta(days=400),
        )
        for days_ago in range(HISTORY_DAYS, 0, -1):
            day = today - timedelta(days=days_ago)
            mean = seasonal_mean(
                day.timetuple().tm_yday,
                base=base,
                amplitude=amplitude,
                growth=growth,
                years_ago=days_ago / 365,
            )
            units = max(0, round(rng.gauss(mean, math.sqrt(mean))))
            if units:
                rows.append(
                    StockAdjustment(
                        stock=level,
                        reason=AdjustmentReason.CONSUMPTION,
                        quantity_delta=-units,
                        # what the replay starts with: a reorder quantity on hand
                        quantity_after=reorder_quantity,
                        adjusted_by="scanner",
                        created_at=now - timedelta(days=days_ago),
                    )
                )
        created.append(level)
    StockAdjustment.objects.bulk_create(rows, batch_size=5000)
    return created
