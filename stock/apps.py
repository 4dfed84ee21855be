from django.apps import AppConfig


class StockConfig(AppConfig):
    name = "stock"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Events carry entities as the API returns them; domain code must not import the API.
        from integrations.events import register_representation
        from stock.serializers import render_adjustments, render_alerts, render_stock_levels

        register_representation("stock_adjustment", render_adjustments)
        register_representation("stock_level", render_stock_levels)
        register_representation("reorder_alert", render_alerts)
