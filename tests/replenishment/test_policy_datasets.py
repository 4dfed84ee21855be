"""The policy checked honestly with the simulator, on synthetic datasets (``datasets.py``): 12
levels, a year replayed, target cycle service level 95%, lead time 7 days, a reorder quantity of
two weeks of mean demand. The README's table comes from these runs."""

from datetime import UTC, datetime

import pytest

from procurement.simulation import simulate_replenishment
from tests.replenishment import datasets

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
TARGET = 0.95
TOLERANCE = 0.03


def _replay(method):
    report = simulate_replenishment(days=365, service_level=TARGET, method=method, now=NOW)
    assert len(report.levels) == 12
    return report.totals


def test_on_seasonal_demand_only_the_seasonal_method_reaches_the_target():
    """Demand 10 a day on average, +-80% over the year, growing 10% a year."""
    datasets.build(now=NOW, base=10, amplitude=0.8, growth=0.1)

    stationary = _replay("stationary")
    seasonal = _replay("seasonal")
    auto = _replay("auto")

    assert seasonal["cycle_service_level"] >= TARGET - TOLERANCE
    assert stationary["cycle_service_level"] < TARGET - TOLERANCE
    assert seasonal["fill_rate"] > stationary["fill_rate"]
    assert seasonal["stockout_days"] < stationary["stockout_days"]
    # every level has the history: auto is the seasonal method
    assert auto == seasonal


def test_on_stationary_demand_both_methods_reach_the_target():
    """Demand 10 a day on average all year."""
    datasets.build(now=NOW, base=10)

    stationary = _replay("stationary")
    seasonal = _replay("seasonal")

    assert stationary["cycle_service_level"] >= TARGET - TOLERANCE
    assert seasonal["cycle_service_level"] >= TARGET - TOLERANCE
    assert stationary["fill_rate"] > 0.99
    assert seasonal["fill_rate"] > 0.99
