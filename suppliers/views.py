from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.response import Response

from procurement_site.api.schema import error_responses
from suppliers import selectors, services
from suppliers.filters import SupplierFilter
from suppliers.serializers import SupplierSerializer


@extend_schema_view(
    get=extend_schema(
        summary="List all suppliers",
        responses={200: SupplierSerializer, **error_responses(400, 401)},
    ),
    post=extend_schema(
        summary="Register a new supplier",
        responses={201: SupplierSerializer, **error_responses(400, 401, 403)},
    ),
)
class SupplierListCreateView(generics.ListCreateAPIView):
    serializer_class = SupplierSerializer
    filterset_class = SupplierFilter
    ordering_fields = ["name", "lead_time_days", "rating", "created_at", "on_time_rate"]
    ordering = ["name", "supplier_id"]

    def get_queryset(self):
        return selectors.list_suppliers()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        supplier = services.register_supplier(**serializer.validated_data)
        return Response(self.get_serializer(supplier).data, status=status.HTTP_201_CREATED)
