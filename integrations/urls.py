from django.urls import path

from integrations.views import (
    EventFeedView,
    WebhookSubscriptionDetailView,
    WebhookSubscriptionListCreateView,
)

urlpatterns = [
    path("events", EventFeedView.as_view(), name="event-feed"),
    path(
        "webhook-subscriptions",
        WebhookSubscriptionListCreateView.as_view(),
        name="webhook-subscription-list",
    ),
    path(
        "webhook-subscriptions/<str:subscription_id>",
        WebhookSubscriptionDetailView.as_view(),
        name="webhook-subscription-detail",
    ),
]
