import re
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.response import Response

from common.errors import NotFound
from procurement import selectors, services
from procurement.filters import PurchaseOrderFilter
from procurement.serializers import (
    PurchaseOrderCreateSerializer,
    PurchaseOrderSerializer,
    PurchaseOrderUpdateSerializer,
)
from procurement_site.api.schema import error_responses

ETAG_HEADER = OpenApiParameter(
    "ETag",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    response=True,
    description="The PO's version; send it back in `If-Match` to update only that version.",
)
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The `ETag` of the version you read: the update applies only if the PO is still at that "
        "version, else 412 and nothing changes."
    ),
)
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')

CREATE_EXAMPLE = OpenApiExample(
    "Two lines",
    request_only=True,
    value={
        "supplier_id": "7d1f2c64-5a7e-4c39-9a53-3b8e2f0c1a11",
        "currency": "usd",
        "line_items": [
            {
                "item_type": "tent-2p",
                "location_id": "2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b",
                "quantity": 12,
                "unit_price": "149.99",
            },
            {
                "item_type": "sleeping-bag",
                "location_id": "2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b",
                "quantity": 20,
                "unit_price": "89.50",
            },
        ],
    },
)
PATCH_EXAMPLES = [
    OpenApiExample("Submit", request_only=True, value={"status": "submitted"}),
    OpenApiExample(
        "Reject", request_only=True, value={"status": "rejected", "reason": "Over budget."}
    ),
    OpenApiExample(
        "Edit a draft and submit it",
        request_only=True,
        value={
            "currency": "EUR",
            "line_items": [
                {
                    "item_type": "kayak",
                    "location_id": "2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b",
                    "quantity": 2,
                    "unit_price": "799.00",
                }
            ],
            "status": "submitted",
        },
    ),
]


def etag(po):
    return f'"{po.version}"'


def if_match_versions(request):
    """The versions an ``If-Match`` header names: ``None`` without one (or ``*``), else the set
    of versions in its strong entity tags (empty when none is ours, which never matches)."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    return {
        int(tag)
        for weak, tag in _ENTITY_TAG.findall(header)
        if not weak and tag.isascii() and tag.isdigit()
    }


def parse_po_id(raw):
    try:
        return UUID(raw)
    except ValueError:
        raise NotFound(f"No purchase order {raw}.") from None


@extend_schema_view(
    get=extend_schema(
        summary="List purchase orders",
        responses={200: PurchaseOrderSerializer, **error_responses(400, 401, 404)},
    ),
    post=extend_schema(
        summary="Create a new purchase order",
        description="Creates a `draft`; `total_amount` is computed from the lines.",
        request=PurchaseOrderCreateSerializer,
        responses={201: PurchaseOrderSerializer, **error_responses(400, 401, 403)},
        parameters=[ETAG_HEADER],
        examples=[CREATE_EXAMPLE],
    ),
)
class PurchaseOrderListCreateView(generics.ListCreateAPIView):
    serializer_class = PurchaseOrderSerializer
    filterset_class = PurchaseOrderFilter
    ordering_fields = [
        "created_at",
        "total_amount",
        "status",
        "submitted_at",
        "approved_at",
        "expected_delivery_date",
        "received_at",
    ]
    ordering = ["-created_at", "po_id"]

    def get_queryset(self):
        return selectors.list_purchase_orders()

    def create(self, request, *args, **kwargs):
        serializer = PurchaseOrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        po = services.create_purchase_order(
            created_by=request.user.get_username(), **serializer.validated_data
        )
        po = selectors.get_purchase_order(po_id=po.po_id)
        headers = {"ETag": etag(po), "Location": f"/purchase-orders/{po.po_id}"}
        return Response(
            self.get_serializer(po).data, status=status.HTTP_201_CREATED, headers=headers
        )


@extend_schema_view(
    get=extend_schema(
        summary="Get purchase order details",
        responses={200: PurchaseOrderSerializer, **error_responses(401, 404)},
        parameters=[ETAG_HEADER],
    ),
    patch=extend_schema(
        summary="Update purchase order status or line items",
        description=(
            "`status` moves the PO along `draft -> submitted -> approved -> shipped -> received`, "
            "`submitted -> rejected` (with a `reason`) and `draft|submitted|approved -> "
            "cancelled`; approving and rejecting need `procurement.approve_purchaseorder` and "
            "not be the PO's creator. `supplier_id`, `currency` and `line_items` change only in "
            "`draft`. Edits and a status may come together: the edits apply first, all or "
            "nothing."
        ),
        request=PurchaseOrderUpdateSerializer,
        responses={200: PurchaseOrderSerializer, **error_responses(400, 401, 403, 404, 409, 412)},
        parameters=[IF_MATCH_HEADER, ETAG_HEADER],
        examples=PATCH_EXAMPLES,
    ),
)
class PurchaseOrderDetailView(generics.GenericAPIView):
    serializer_class = PurchaseOrderSerializer

    def get_queryset(self):
        return selectors.list_purchase_orders()

    def get(self, request, po_id):
        po = selectors.get_purchase_order(po_id=parse_po_id(po_id))
        return Response(self.get_serializer(po).data, headers={"ETag": etag(po)})

    def patch(self, request, po_id):
        po_uuid = parse_po_id(po_id)
        serializer = PurchaseOrderUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.update_purchase_order(
            po_id=po_uuid,
            user=request.user,
            if_match_version=if_match_versions(request),
            **serializer.validated_data,
        )
        po = selectors.get_purchase_order(po_id=po_uuid)
        return Response(self.get_serializer(po).data, headers={"ETag": etag(po)})
