from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from procurement_site.api.filters import StrictOrderingFilter
from procurement_site.api.idempotency import IdempotentAPIView
from procurement_site.api.schema import COMMON_HEADERS, error_response, error_responses
from suppliers import selectors, services
from suppliers.filters import SupplierFilter
from suppliers.serializers import SupplierSerializer

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
class SupplierListCreateView(IdempotentAPIView, generics.ListCreateAPIView):
    serializer_class = SupplierSerializer
    filter_backends = [DjangoFilterBackend, StrictOrderingFilter]
    filterset_class = SupplierFilter
    ordering_fields = ["name", "lead_time_days", "rating", "created_at", "on_time_rate"]
    ordering = ["name", "supplier_id"]

    def get_queryset(self):
        return selectors.list_suppliers()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        supplier = services.register_supplier(
            actor=request.user.get_username(), **serializer.validated_data
        )
        return Response(self.get_serializer(supplier).data, status=status.HTTP_201_CREATED)
