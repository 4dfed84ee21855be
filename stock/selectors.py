"""Reads of stock: levels and open reorder alerts.

The number on order for a stock level comes from purchase orders, which the stock app must not
import; the procurement app registers a provider at start-up (``register_on_order_provider``).
"""

from django.db.models import IntegerField, Value

from stock.models import ReorderAlert, StockLevel

_on_order_provider = None


def register_on_order_provider(provider):
    """``provider(stock_ref)`` returns an expression for the quantity on order of the
    stock level that ``stock_ref`` (a field path such as ``""`` or ``"stock__"``) points at."""
    global _on_order_provider  # set once, at app start-up
    _on_order_provider = provider


def quantity_on_order_expression(stock_ref=""):
    if _on_order_provider is None:
        return Value(0, output_field=IntegerField())
    return _on_order_provider(stock_ref)


def list_stock_levels():
    return StockLevel.objects.all()


def list_open_alerts():
    """Open alerts with their stock level and ``quantity_on_order`` annotated, in one query."""
    return (
        ReorderAlert.objects.filter(resolved_at__isnull=True)
        .select_related("stock")
        .annotate(quantity_on_order=quantity_on_order_expression("stock__"))
    )
