"""Replenishment statistics: pure functions of numbers and day series, no ORM, no clock.

Reorder point, stationary: with d and s_d the mean and sample standard deviation of the daily
demand over the window, L and s_L the lead time and its spread, and L' = L + review days,
point = ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)).

Reorder point, seasonal: the same formula, with d and s_d taken from the same calendar days one
year earlier (the ``sample``: the L' days to come, widened evenly on both sides to at least
``MIN_SEASONAL_SAMPLE_DAYS``, so that a short lead time does not estimate the mean from a handful
of days) and multiplied by this year's trend, the demand of the last window over the demand of
the same window one year earlier.

Lead times: a supplier's expected lead time is an exponentially weighted average of its actual
lead times in delivery order (``EWMA_ALPHA``, seeded with the declared lead time); its spread is
the sample standard deviation of the last ``SPREAD_SAMPLE`` (0 until there are
``MIN_RECEIPTS_FOR_LEARNED``). The reads and writes are in ``procurement.lead_times``.

The policy replay (``replay_policy``) is the day-by-day arithmetic of the simulator: the data
reads and the choice of inputs are in ``procurement.simulation``.

Pure: no Django import, so that ``bench/floor.py`` imports these instead of copying them.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

# Absorbs floating-point noise so that e.g. 24.000000000000004 is a point of 24, not 25.
CEIL_TOLERANCE = 1e-9
DAYS_PER_YEAR = 365
# The year-earlier sample is never shorter than this: with 8 days (a week's lead time) the
# simulator showed the noise of the sample mean costing several points of service level.
MIN_SEASONAL_SAMPLE_DAYS = 28
MIN_HISTORY_DAYS = 14
EWMA_ALPHA = 0.3
SPREAD_SAMPLE = 10
MIN_RECEIPTS_FOR_LEARNED = 3
# A level's lead time is never taken below this (a same-day supplier still needs the night).
MIN_LEAD_TIME_DAYS = 1.0


class Method:
    AUTO = "auto"
    STATIONARY = "stationary"
    SEASONAL = "seasonal"


def demand_statistics(*, history_days, total, total_sq):
    """(mean, sample standard deviation) of a zero-filled daily series of ``history_days`` days
    whose non-zero days sum to ``total`` and their squares to ``total_sq``. The zero days add
    nothing to either sum, so var = (total_sq - n*mean^2) / (n - 1)."""
    n = history_days
    mean = total / n
    if n < 2:
        return mean, 0.0
    variance = (total_sq - n * mean * mean) / (n - 1)
    return mean, math.sqrt(max(variance, 0.0))


def reorder_point(
    *, mean_daily_demand, demand_stddev, lead_time_days, lead_time_stddev_days, review_days, z
):
    """ceil(d*L' + z*sqrt(L'*s_d^2 + d^2*s_L^2)) with L' = L + review days; never below 0."""
    d, covered = mean_daily_demand, lead_time_days + review_days
    safety = z * math.sqrt(covered * demand_stddev**2 + d**2 * lead_time_stddev_days**2)
    return max(0, math.ceil(d * covered + safety - CEIL_TOLERANCE))


def demand_figures(*, history_days, total, total_sq):
    """(skipped reason or None, mean, standard deviation) of a level's stationary demand: a level
    with fewer than ``MIN_HISTORY_DAYS`` days of history, or no consumption, is skipped (its
    figures are 0). The reasons are ``stock.models.SkipReason``'s values."""
    if history_days < MIN_HISTORY_DAYS:
        return "short_history", 0.0, 0.0
    if total <= 0:
        return "no_demand", 0.0, 0.0
    mean, stddev = demand_statistics(history_days=history_days, total=total, total_sq=total_sq)
    return None, mean, stddev


def lead_time_days(approved_at, delivered_at):
    """A delivery's actual lead time in fractional days (never negative)."""
    return max(0.0, (delivered_at - approved_at).total_seconds() / 86400)


def learned_lead_time(*, previous, latest):
    """(expected lead time, spread) after one more delivery: ``previous`` is the expected lead
    time before it, ``latest`` the lead times of the latest deliveries, newest first (the new one
    first), at most ``SPREAD_SAMPLE`` of them."""
    expected = EWMA_ALPHA * latest[0] + (1 - EWMA_ALPHA) * previous
    return expected, lead_time_spread(latest)


def lead_time_spread(lead_times):
    """The sample standard deviation of ``lead_times``; 0 with fewer than
    ``MIN_RECEIPTS_FOR_LEARNED``."""
    if len(lead_times) < MIN_RECEIPTS_FOR_LEARNED:
        return 0.0
    return statistics.stdev(lead_times)


def effective_lead_time(*, declared, learned, spread, receipts_count):
    """(lead time, spread) in days to plan with: the learned figures once
    ``MIN_RECEIPTS_FOR_LEARNED`` receipts exist, else the declared lead time without spread."""
    if receipts_count >= MIN_RECEIPTS_FOR_LEARNED and learned is not None:
        return float(learned), float(spread or 0)
    return float(declared), 0.0


def seasonal_sample(*, lead_time_days, review_days):
    """(first day, number of days) of the sample one year earlier, the first day relative to
    today's calendar day a year earlier: L' rounded up to whole days, widened evenly on both
    sides to at least ``MIN_SEASONAL_SAMPLE_DAYS`` (the extra odd day after)."""
    covered = math.ceil(lead_time_days + review_days - CEIL_TOLERANCE)
    length = max(covered, MIN_SEASONAL_SAMPLE_DAYS)
    return -((length - covered) // 2), length


def seasonal_history_days(*, window_days):
    """Days of history a level needs for the seasonal method: a year plus a window."""
    return DAYS_PER_YEAR + window_days


@dataclass(frozen=True)
class SeasonalDemand:
    """The working of a seasonal demand estimate.

    ``base_mean``/``base_stddev``: daily demand over the ``sample_days`` days one year earlier;
    ``trend``: demand of the last window / demand of the same window one year earlier;
    ``mean_daily_demand``/``demand_stddev``: the base figures times the trend (the d and s_d of
    the reorder point)."""

    sample_days: int
    base_mean: float
    base_stddev: float
    window_total: int
    window_total_last_year: int
    trend: float

    @property
    def mean_daily_demand(self):
        return self.base_mean * self.trend

    @property
    def demand_stddev(self):
        return self.base_stddev * self.trend


def seasonal_demand(
    *, sample_days, sample_total, sample_total_sq, window_total, window_total_last_year
):
    """The seasonal d and s_d (see ``SeasonalDemand``); None when the window one year earlier
    saw no consumption (there is no trend to scale by)."""
    if window_total_last_year <= 0:
        return None
    base_mean, base_stddev = demand_statistics(
        history_days=sample_days, total=sample_total, total_sq=sample_total_sq
    )
    return SeasonalDemand(
        sample_days=sample_days,
        base_mean=base_mean,
        base_stddev=base_stddev,
        window_total=window_total,
        window_total_last_year=window_total_last_year,
        trend=window_total / window_total_last_year,
    )


# --- The policy over a day series --------------------------------------------------------------


def prefix_sums(values):
    """([0, v0, v0+v1, ...], the same of squares): the sum of days [a, b) is p[b] - p[a]."""
    sums, squares = [0] * (len(values) + 1), [0] * (len(values) + 1)
    running = running_sq = 0
    for index, value in enumerate(values, 1):
        running += value
        running_sq += value * value
        sums[index], squares[index] = running, running_sq
    return sums, squares


@dataclass(frozen=True)
class DayPoint:
    """The reorder point a nightly run computes on one day, and with which method; ``point`` is
    None when the level is skipped (it keeps the point it had)."""

    point: int | None
    method: str | None


def reorder_point_on_day(
    *,
    sums,
    squares,
    day,
    first_day,
    method,
    window_days,
    lead_time_days,
    lead_time_stddev_days,
    review_days,
    z,
):
    """The point the recalculation computes from the days before ``day`` of a daily series
    (``sums``/``squares`` from ``prefix_sums``; days are indexes into the series, and ``day``
    must be at least ``window_days``, plus a year for the seasonal method). ``first_day``: the
    level's first recorded day (may be before the series starts: a negative index)."""
    history = day - max(first_day, day - window_days)
    seasonal_ready = day - first_day >= seasonal_history_days(window_days=window_days)
    if method == Method.SEASONAL or (method == Method.AUTO and seasonal_ready):
        if not seasonal_ready:
            return DayPoint(None, None)
        offset, length = seasonal_sample(lead_time_days=lead_time_days, review_days=review_days)
        last_year = day - DAYS_PER_YEAR
        start = max(last_year + offset, 0)
        seasonal = seasonal_demand(
            sample_days=length,
            sample_total=sums[start + length] - sums[start],
            sample_total_sq=squares[start + length] - squares[start],
            window_total=sums[day] - sums[day - window_days],
            window_total_last_year=sums[last_year] - sums[last_year - window_days],
        )
        if seasonal is not None:
            point = reorder_point(
                mean_daily_demand=seasonal.mean_daily_demand,
                demand_stddev=seasonal.demand_stddev,
                lead_time_days=lead_time_days,
                lead_time_stddev_days=lead_time_stddev_days,
                review_days=review_days,
                z=z,
            )
            return DayPoint(point, Method.SEASONAL)
        if method == Method.SEASONAL:
            return DayPoint(None, None)
    if history < MIN_HISTORY_DAYS:
        return DayPoint(None, None)
    start = day - history
    total = sums[day] - sums[start]
    if total <= 0:
        return DayPoint(None, None)
    mean, stddev = demand_statistics(
        history_days=history, total=total, total_sq=squares[day] - squares[start]
    )
    point = reorder_point(
        mean_daily_demand=mean,
        demand_stddev=stddev,
        lead_time_days=lead_time_days,
        lead_time_stddev_days=lead_time_stddev_days,
        review_days=review_days,
        z=z,
    )
    return DayPoint(point, Method.STATIONARY)


@dataclass(frozen=True)
class ReplayOutcome:
    """What a policy did over the replayed days of one level.

    A replenishment cycle is one order, from the day it is placed to the day before it arrives;
    it had a stockout if demand went unserved on one of those days. Orders still on their way
    when the replay ends are not judged (``cycles`` counts the arrived ones)."""

    days: int
    orders: int
    cycles: int
    cycles_with_stockout: int
    demanded: int
    served: int
    stockout_days: int
    on_hand_total: int

    @property
    def cycle_service_level(self):
        return None if not self.cycles else 1 - self.cycles_with_stockout / self.cycles

    @property
    def fill_rate(self):
        return None if not self.demanded else self.served / self.demanded

    @property
    def average_on_hand(self):
        return None if not self.days else self.on_hand_total / self.days


def replay_policy(
    *,
    demand: Sequence[int],
    points: Sequence[int | None],
    lead_times: Sequence[int],
    start_on_hand: int,
    initial_point: int,
    reorder_quantity: int,
):
    """Replay ``demand`` (units wanted per day) against a reorder-point policy.

    Each day ``i``: first the orders due that day arrive; then the nightly run takes the day's
    point (``points[i]``, or the last point when None, ``initial_point`` at first) and orders
    ``reorder_quantity`` when on hand plus on order is at or below it, to arrive on day
    ``i + lead_times[i]`` (at least 1); then the day's demand is served from on hand, what is
    missing being lost. ``on_hand_total`` sums the on hand at each day's end."""
    arrivals = {}
    open_cycles = []  # [arrival day, had a stockout]
    on_hand, on_order, point = start_on_hand, 0, initial_point
    orders = cycles = failed = demanded = served = stockout_days = on_hand_total = 0
    for day, wanted in enumerate(demand):
        arriving = arrivals.pop(day, 0)
        on_hand += arriving
        on_order -= arriving
        if open_cycles and open_cycles[0][0] <= day:
            still_open = []
            for cycle in open_cycles:
                if cycle[0] <= day:
                    cycles += 1
                    failed += cycle[1]
                else:
                    still_open.append(cycle)
            open_cycles = still_open
        if points[day] is not None:
            point = points[day]
        if reorder_quantity > 0 and on_hand + on_order <= point:
            arrival = day + max(1, lead_times[day])
            arrivals[arrival] = arrivals.get(arrival, 0) + reorder_quantity
            on_order += reorder_quantity
            orders += 1
            open_cycles.append([arrival, False])
        taken = min(on_hand, wanted)
        on_hand -= taken
        demanded += wanted
        served += taken
        if taken < wanted:
            stockout_days += 1
            for cycle in open_cycles:
                cycle[1] = True
        on_hand_total += on_hand
    return ReplayOutcome(
        days=len(demand),
        orders=orders,
        cycles=cycles,
        cycles_with_stockout=failed,
        demanded=demanded,
        served=served,
        stockout_days=stockout_days,
        on_hand_total=on_hand_total,
    )
