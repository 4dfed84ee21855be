from integrations.models import WebhookSubscription
from procurement_site.api.filters import OrderingFilter, StrictFilterSet


class WebhookSubscriptionFilter(StrictFilterSet):
    ordering = OrderingFilter(
        fields=["created_at", "url"], default=["created_at", "subscription_id"]
    )

    class Meta:
        model = WebhookSubscription
        fields = []
