import factory
from django.utils import timezone

from stock.models import LeadTimeSource, ReorderPointCalculation
from tests.factories import StockLevelFactory


class ReorderPointCalculationFactory(factory.django.DjangoModelFactory):
    """A computed (not skipped) calculation; pass ``reorder_point=None`` and a
    ``skipped_reason`` for a skipped one."""

    class Meta:
        model = ReorderPointCalculation

    stock = factory.SubFactory(StockLevelFactory)
    computed_at = factory.LazyFunction(timezone.now)
    window_days = 90
    history_days = 90
    mean_daily_demand = 2.5
    demand_stddev = 1.25
    lead_time_days = 7.0
    lead_time_stddev_days = 0.5
    lead_time_source = LeadTimeSource.LOCATION
    review_days = 1
    service_level = 0.95
    z = 1.6448536269514722
    previous_reorder_point = 5
    reorder_point = 27
