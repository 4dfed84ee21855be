import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.response import Response

from common.errors import NotFound
from integrations import events, webhooks
from integrations.filters import WebhookSubscriptionFilter
from integrations.models import WebhookSubscription
from integrations.serializers import (
    MAX_SEQUENCE,
    EventFeedQuerySerializer,
    EventFeedSerializer,
    WebhookSubscriptionCreatedSerializer,
    WebhookSubscriptionCreateSerializer,
    WebhookSubscriptionSerializer,
)
from procurement_site.api.conditional import ConditionalGetMixin
from procurement_site.api.fields import UUID_PATTERN
from procurement_site.api.idempotency import IdempotentAPIView
from procurement_site.api.schema import COMMON_HEADERS, error_response, error_responses

VIEW_EVENTS_PERMISSION = "integrations.view_event"
MANAGE_WEBHOOKS_PERMISSION = "integrations.manage_webhooks"


class HasPermission(permissions.BasePermission):
    """Authenticated and holding ``required_permission`` (superusers hold every one)."""

    def has_permission(self, request, view):
        user = request.user
        return bool(user and user.is_authenticated and user.has_perm(view.required_permission))


class EventFeedView(generics.GenericAPIView):
    permission_classes = [HasPermission]
    required_permission = VIEW_EVENTS_PERMISSION
    serializer_class = EventFeedSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        summary="Read the event feed",
        description=(
            "Committed events in `sequence` order, as CloudEvents 1.0 JSON. Call again with "
            "`after=next_after`: every committed event comes exactly once, in order, however "
            "the writing transactions commit. Needs `integrations.view_event`."
        ),
        parameters=[
            OpenApiParameter(
                "after",
                {"type": "integer", "minimum": 0, "maximum": MAX_SEQUENCE},
                OpenApiParameter.QUERY,
                description="The last sequence you have (default 0: from the start).",
            ),
            OpenApiParameter(
                "type",
                {"type": "string", "pattern": r"^[a-z0-9_.]{1,120}$"},
                OpenApiParameter.QUERY,
                description="Only events whose type starts with this, e.g. "
                "`novatrek.procurement.purchase_order`.",
            ),
            OpenApiParameter(
                "limit",
                {"type": "integer", "minimum": 1, "maximum": 1000},
                OpenApiParameter.QUERY,
                description="At most this many events (default 100).",
            ),
            *COMMON_HEADERS,
        ],
        responses={
            200: OpenApiResponse(EventFeedSerializer, "The next events."),
            **error_responses(400, 401, 403, 503),
        },
    )
    def get(self, request):
        # A plain dict: DRF reads an empty query value of an optional field as "not given".
        query = EventFeedQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        after = query.validated_data["after"]
        found = events.event_feed(
            after=after,
            type_prefix=query.validated_data.get("type"),
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                "results": [events.cloudevent(event) for event in found],
                "next_after": found[-1].sequence if found else after,
            }
        )


class WebhookSubscriptionListCreateView(
    ConditionalGetMixin, IdempotentAPIView, generics.ListAPIView
):
    permission_classes = [HasPermission]
    required_permission = MANAGE_WEBHOOKS_PERMISSION
    serializer_class = WebhookSubscriptionSerializer
    etag_fields = WebhookSubscriptionSerializer.Meta.fields
    filterset_class = WebhookSubscriptionFilter

    def get_queryset(self):
        return WebhookSubscription.objects.all()

    @extend_schema(
        summary="List webhook subscriptions",
        description="Needs `integrations.manage_webhooks`. Secrets are never shown again.",
        responses={
            200: OpenApiResponse(WebhookSubscriptionSerializer, "A page of subscriptions."),
            **error_responses(400, 401, 403),
            404: error_response(404, "No such page (`?page=`)."),
            **error_responses(503),
        },
        parameters=COMMON_HEADERS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Subscribe a URL to events",
        description=(
            "Deliveries follow the Standard Webhooks specification, signed with the `secret` "
            "returned here (once). The URL must be https and resolve to public addresses only "
            "(checked again at each delivery). Needs `integrations.manage_webhooks`."
        ),
        request=WebhookSubscriptionCreateSerializer,
        responses={
            201: OpenApiResponse(WebhookSubscriptionCreatedSerializer, "The subscription."),
            **error_responses(400, 401, 403, 415, 503),
        },
        parameters=COMMON_HEADERS,
    )
    def post(self, request):
        serializer = WebhookSubscriptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = webhooks.create_subscription(
            created_by=request.user.get_username(), **serializer.validated_data
        )
        return Response(
            WebhookSubscriptionCreatedSerializer(subscription).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/webhook-subscriptions/{subscription.subscription_id}"},
        )


class WebhookSubscriptionDetailView(generics.GenericAPIView):
    permission_classes = [HasPermission]
    required_permission = MANAGE_WEBHOOKS_PERMISSION
    serializer_class = WebhookSubscriptionSerializer

    @extend_schema(
        summary="Delete a webhook subscription",
        description="Stops its deliveries. Needs `integrations.manage_webhooks`.",
        parameters=[
            OpenApiParameter(
                "subscription_id",
                OpenApiTypes.UUID,
                OpenApiParameter.PATH,
                description="The subscription. Not a UUID, or unknown: 404.",
            ),
            *COMMON_HEADERS,
        ],
        responses={204: None, **error_responses(401, 403, 404, 503)},
    )
    def delete(self, request, subscription_id):
        if not re.fullmatch(UUID_PATTERN, subscription_id):
            raise NotFound(f"No webhook subscription {subscription_id}.")
        webhooks.delete_subscription(subscription_id=subscription_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
