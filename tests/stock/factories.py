"""Stock levels whose quantity is backed by the ledger, as the service would have left them."""

from stock.models import AdjustmentReason, StockLevel
from stock.services import record_adjustment, sync_alerts
from tests.factories import StockLevelFactory


def stocked_level(quantity=0, **kwargs) -> StockLevel:
    """A level holding ``quantity`` units, received through the service so that its ledger sums
    to its quantity and its alert is open or not as the service decides."""
    level = StockLevelFactory(quantity_on_hand=0, **kwargs)
    if quantity:
        record_adjustment(
            reason=AdjustmentReason.RECEIPT,
            adjusted_by="setup",
            stock_id=level.stock_id,
            quantity_delta=quantity,
        )
    else:
        sync_alerts(levels=[level])
    level.refresh_from_db()
    return level
