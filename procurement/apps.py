from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "procurement"
    verbose_name = "Purchase orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Reorder alerts report the quantity on order; the stock app may not import procurement.
        from procurement.queries import quantity_on_order_sql
        from procurement.selectors import quantity_on_order
        from stock.selectors import register_on_order_provider

        register_on_order_provider(quantity_on_order, sql=quantity_on_order_sql)

        # Events carry entities as the API returns them; domain code must not import the API.
        from integrations.events import register_representation
        from procurement.serializers import render_purchase_orders

        register_representation("purchase_order", render_purchase_orders)
