from django.apps import AppConfig


class ProcurementConfig(AppConfig):
    name = "procurement"
    verbose_name = "Purchase orders"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Reorder alerts report the quantity on order; the stock app may not import procurement.
        from procurement.selectors import quantity_on_order
        from stock.selectors import register_on_order_provider

        register_on_order_provider(quantity_on_order)
