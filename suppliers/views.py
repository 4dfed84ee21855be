import re
from uuid import UUID

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status
from rest_framework.response import Response

from common.errors import NotFound
from procurement_site.api.conditional import (
    DETAIL_ETAG_DESCRIPTION,
    ConditionalGetMixin,
    row_etag,
)
from procurement_site.api.fields import UUID_PATTERN
from procurement_site.api.idempotency import IdempotentAPIView
from procurement_site.api.schema import COMMON_HEADERS, error_response, error_responses
from suppliers import selectors, services
from suppliers.filters import SupplierFilter, SupplierItemFilter
from suppliers.serializers import (
    SupplierItemCreateSerializer,
    SupplierItemSerializer,
    SupplierItemUpdateSerializer,
    SupplierSerializer,
)

_UUID = re.compile(UUID_PATTERN)

SUPPLIER_EXAMPLES = [
    OpenApiExample(
        "Register a supplier",
        request_only=True,
        value={
            "name": "Alpine Outfitters",
            "contact_email": "orders@alpine.example.com",
            "lead_time_days": 10,
            "rating": "4.25",
        },
    ),
    OpenApiExample(
        "Registered",
        response_only=True,
        status_codes=["201"],
        value={
            "supplier_id": "7d1f2c64-5a7e-4c39-9a53-3b8e2f0c1a11",
            "name": "Alpine Outfitters",
            "contact_email": "orders@alpine.example.com",
            "lead_time_days": 10,
            "rating": "4.25",
            "active": True,
            "created_at": "2026-05-04T09:30:00Z",
            "expected_lead_time_days": None,
            "lead_time_stddev_days": None,
            "on_time_rate": None,
            "in_full_rate": None,
            "receipts_count": 0,
        },
    ),
    OpenApiExample(
        "Invalid field",
        response_only=True,
        status_codes=["400"],
        value={
            "status": 400,
            "code": "invalid",
            "message": "lead_time_days: Ensure this value is greater than or equal to 0.",
            "fields": {"lead_time_days": ["Ensure this value is greater than or equal to 0."]},
        },
    ),
]


@extend_schema_view(
    get=extend_schema(
        summary="List all suppliers",
        description="Suppliers by name, with their performance learned from received orders.",
        responses={
            200: OpenApiResponse(SupplierSerializer, "A page of suppliers."),
            **error_responses(400, 401),
            404: error_response(404, "No such page (`?page=`)."),
            **error_responses(503),
        },
        parameters=COMMON_HEADERS,
    ),
    post=extend_schema(
        summary="Register a new supplier",
        description="Needs `suppliers.add_supplier`. The performance figures start empty.",
        responses={
            201: OpenApiResponse(SupplierSerializer, "The supplier, registered."),
            **error_responses(400, 401, 403, 415, 503),
        },
        parameters=COMMON_HEADERS,
        examples=SUPPLIER_EXAMPLES,
    ),
)
class SupplierListCreateView(ConditionalGetMixin, IdempotentAPIView, generics.ListCreateAPIView):
    serializer_class = SupplierSerializer
    etag_fields = SupplierSerializer.Meta.fields
    filterset_class = SupplierFilter

    def get_queryset(self):
        return selectors.list_suppliers()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        supplier = services.register_supplier(
            actor=request.user.get_username(), **serializer.validated_data
        )
        return Response(self.get_serializer(supplier).data, status=status.HTTP_201_CREATED)


SUPPLIER_ITEM_EXAMPLE = {
    "supplier_item_id": "3c9e5a71-2b4d-4f8e-9a61-7d0c2e5b8f14",
    "supplier_id": "7d1f2c64-5a7e-4c39-9a53-3b8e2f0c1a11",
    "supplier_name": "Alpine Outfitters",
    "item_type": "tent-2p",
    "supplier_sku": "AO-T2P-GRN",
    "unit_price": "149.99",
    "currency": "USD",
    "min_order_quantity": 10,
    "order_multiple": 4,
    "lead_time_days": 12,
    "preferred": True,
    "created_at": "2026-05-04T09:30:00Z",
    "updated_at": "2026-05-04T09:30:00Z",
}
# What the body shows of a catalog entry: its columns and its supplier's name.
SUPPLIER_ITEM_ETAG_FIELDS = [
    "supplier__name" if name == "supplier_name" else name
    for name in SupplierItemSerializer.Meta.fields
]
SUPPLIER_ITEM_ID_PARAMETER = OpenApiParameter(
    "supplier_item_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The catalog entry. Not a UUID, or unknown: 404.",
)


@extend_schema_view(
    get=extend_schema(
        summary="List the suppliers' catalog",
        description="What each supplier sells, at what price, minimum order, pack size and lead "
        "time; filter by supplier, item type, preferred.",
        responses={
            200: OpenApiResponse(SupplierItemSerializer, "A page of catalog entries."),
            **error_responses(400, 401),
            404: error_response(404, "No such page (`?page=`)."),
            **error_responses(503),
        },
        parameters=COMMON_HEADERS,
    ),
    post=extend_schema(
        summary="Add an item to a supplier's catalog",
        description="Needs `suppliers.add_supplieritem`. One entry per (supplier, item type): a "
        "second is a 409 `already_in_catalog`. `preferred: true` makes this supplier the item "
        "type's preferred one and un-prefers the previous one, in the same transaction.",
        request=SupplierItemCreateSerializer,
        responses={
            201: OpenApiResponse(SupplierItemSerializer, "The catalog entry."),
            **error_responses(400, 401, 403, 409, 415, 503),
        },
        parameters=COMMON_HEADERS,
        examples=[
            OpenApiExample(
                "A preferred supplier of two-person tents",
                request_only=True,
                value={
                    "supplier_id": SUPPLIER_ITEM_EXAMPLE["supplier_id"],
                    "item_type": "tent-2p",
                    "supplier_sku": "AO-T2P-GRN",
                    "unit_price": "149.99",
                    "min_order_quantity": 10,
                    "order_multiple": 4,
                    "lead_time_days": 12,
                    "preferred": True,
                },
            ),
            OpenApiExample(
                "Added", response_only=True, status_codes=["201"], value=SUPPLIER_ITEM_EXAMPLE
            ),
        ],
    ),
)
class SupplierItemListCreateView(
    ConditionalGetMixin, IdempotentAPIView, generics.ListCreateAPIView
):
    serializer_class = SupplierItemSerializer
    etag_fields = SUPPLIER_ITEM_ETAG_FIELDS
    filterset_class = SupplierItemFilter

    def get_queryset(self):
        return selectors.list_supplier_items()

    def create(self, request, *args, **kwargs):
        serializer = SupplierItemCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.create_supplier_item(**serializer.validated_data)
        item = selectors.list_supplier_items().get(pk=item.pk)
        return Response(self.get_serializer(item).data, status=status.HTTP_201_CREATED)


def _item_uuid(raw):
    if not _UUID.fullmatch(raw):
        raise NotFound(f"No supplier item {raw}.")
    return UUID(raw)


@extend_schema_view(
    get=extend_schema(
        summary="Get a catalog entry",
        responses={
            200: OpenApiResponse(SupplierItemSerializer, "The catalog entry."),
            **error_responses(401, 404, 503),
        },
        parameters=[SUPPLIER_ITEM_ID_PARAMETER, *COMMON_HEADERS],
    ),
    patch=extend_schema(
        summary="Change a catalog entry's terms",
        description="Needs `suppliers.change_supplieritem`. Any of the terms; the supplier and "
        "item type of an entry do not change (add another entry instead). `preferred: true` "
        "un-prefers the item type's other supplier in the same transaction.",
        request=SupplierItemUpdateSerializer,
        responses={
            200: OpenApiResponse(SupplierItemSerializer, "The catalog entry as saved."),
            **error_responses(400, 401, 403, 404, 415, 503),
        },
        parameters=[SUPPLIER_ITEM_ID_PARAMETER, *COMMON_HEADERS],
        examples=[
            OpenApiExample("Make it preferred", request_only=True, value={"preferred": True}),
            OpenApiExample(
                "Saved", response_only=True, status_codes=["200"], value=SUPPLIER_ITEM_EXAMPLE
            ),
        ],
    ),
)
class SupplierItemDetailView(ConditionalGetMixin, IdempotentAPIView, generics.GenericAPIView):
    serializer_class = SupplierItemSerializer
    etag_read_first = True
    etag_description = DETAIL_ETAG_DESCRIPTION

    def get_queryset(self):
        return selectors.list_supplier_items()

    def get_current_etag(self):
        item_uuid = _item_uuid(self.kwargs["supplier_item_id"])
        return row_etag(self.get_queryset().filter(pk=item_uuid), SUPPLIER_ITEM_ETAG_FIELDS)

    def get(self, request, supplier_item_id):
        item = selectors.list_supplier_items().filter(pk=_item_uuid(supplier_item_id)).first()
        if item is None:
            raise NotFound(f"No supplier item {supplier_item_id}.")
        return Response(self.get_serializer(item).data)

    def patch(self, request, supplier_item_id):
        item_uuid = _item_uuid(supplier_item_id)
        serializer = SupplierItemUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.update_supplier_item(
            supplier_item_id=item_uuid, **serializer.validated_data
        )
        return Response(self.get_serializer(item).data)
