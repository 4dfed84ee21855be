from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response

from procurement_site.api.conditional import ConditionalGetMixin
from procurement_site.api.idempotency import IdempotentAPIView
from procurement_site.api.schema import COMMON_HEADERS, error_response, error_responses
from stock import presenters, selectors, services
from stock.filters import ReorderAlertFilter, StockLevelFilter
from stock.models import StockAdjustment
from stock.serializers import (
    ReorderAlertSerializer,
    StockAdjustmentCreateSerializer,
    StockAdjustmentSerializer,
    StockLevelSerializer,
)

LIST_ERRORS = {
    **error_responses(400, 401),
    404: error_response(404, "No such page (`?page=`)."),
    **error_responses(503),
}


class StockLevelListView(ConditionalGetMixin, generics.ListAPIView):
    serializer_class = StockLevelSerializer
    # The level's columns; its calculation by id (calculations are only ever inserted).
    etag_fields = [*selectors.LEVEL_COLUMNS, "reorder_calculation__calculation_id"]
    page_columns = selectors.LEVEL_ROW_COLUMNS
    filterset_class = StockLevelFilter

    def get_queryset(self):
        return selectors.StockLevelRows()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(presenters.stock_levels(page))

    @extend_schema(
        summary="Query current stock levels",
        description="Stock levels, filtered by location and/or item category.",
        responses={
            200: OpenApiResponse(StockLevelSerializer, "A page of stock levels."),
            **LIST_ERRORS,
        },
        parameters=COMMON_HEADERS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


ADJUSTMENT_EXAMPLES = [
    OpenApiExample(
        "Consumption by stock id",
        value={
            "stock_id": "6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10",
            "reason": "consumption",
            "quantity_delta": -2,
            "note": "Issued to the Kilimanjaro group",
        },
        request_only=True,
    ),
    OpenApiExample(
        "Receipt by item type and location",
        value={
            "item_type": "tent-4p",
            "location_id": "0b6e2f4a-91c3-4d8e-a7f0-5c2b9e1d3a64",
            "reason": "receipt",
            "quantity_delta": 12,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Physical count",
        value={
            "stock_id": "6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10",
            "reason": "count",
            "counted_quantity": 17,
        },
        request_only=True,
    ),
    OpenApiExample(
        "Recorded consumption",
        value={
            "adjustment_id": "c3a1d9e0-57b2-4f6a-8e4d-2b7c0f9a1e35",
            "stock_id": "6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10",
            "item_type": "tent-4p",
            "location_id": "0b6e2f4a-91c3-4d8e-a7f0-5c2b9e1d3a64",
            "reason": "consumption",
            "quantity_delta": -2,
            "quantity_after": 15,
            "counted_quantity": None,
            "note": "Issued to the Kilimanjaro group",
            "adjusted_by": "warehouse.clerk",
            "created_at": "2026-05-04T09:30:00Z",
            "quantity_on_hand": 15,
        },
        response_only=True,
        status_codes=["201"],
    ),
    OpenApiExample(
        "Below zero",
        value={
            "status": 409,
            "code": "insufficient_stock",
            "message": "Stock of tent-4p at 0b6e2f4a-91c3-4d8e-a7f0-5c2b9e1d3a64 is 1; "
            "a change of -2 would take it below zero.",
            "quantity_on_hand": 1,
            "stock_id": "6f1c8a2e-3b7d-4c1e-9a55-0d2f4e8b7c10",
        },
        response_only=True,
        status_codes=["409"],
    ),
]


class StockAdjustmentCreateView(IdempotentAPIView, generics.GenericAPIView):
    # The queryset only tells ModelPermissions the model: POST needs stock.add_stockadjustment.
    queryset = StockAdjustment.objects.none()
    serializer_class = StockAdjustmentSerializer

    @extend_schema(
        summary="Record a stock adjustment",
        description=(
            "Manual corrections, damage write-offs, consumption, physical counts, or receiving a "
            "shipment outside the purchase-order flow. Names the stock level by `stock_id` or by "
            "(`item_type`, `location_id`). Stock never goes below zero (409 "
            "`insufficient_stock`, nothing written)."
        ),
        request=StockAdjustmentCreateSerializer,
        responses={
            201: OpenApiResponse(StockAdjustmentSerializer, "The adjustment, recorded."),
            **error_responses(400, 401, 403),
            404: error_response(
                404,
                "Unknown `stock_id`, or no stock level for (`item_type`, `location_id`) and the "
                "reason is not `receipt`.",
            ),
            409: error_response(
                409,
                "The adjustment would take the stock below zero (code `insufficient_stock`).",
            ),
            **error_responses(415, 503),
        },
        parameters=COMMON_HEADERS,
        examples=ADJUSTMENT_EXAMPLES,
    )
    def post(self, request, *args, **kwargs):
        serializer = StockAdjustmentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        adjustment = services.record_adjustment(
            adjusted_by=request.user.get_username(), **serializer.validated_data
        )
        [body] = presenters.adjustments([adjustment])
        return Response(body, status=status.HTTP_201_CREATED)


class ReorderAlertListView(ConditionalGetMixin, generics.ListAPIView):
    serializer_class = ReorderAlertSerializer
    # The suggested quantity follows from the others.
    etag_fields = [name for name in selectors.ALERT_COLUMNS if name != "suggested_quantity"]
    page_columns = selectors.ALERT_COLUMNS
    filterset_class = ReorderAlertFilter

    def get_queryset(self):
        return selectors.ReorderAlertRows()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(presenters.alerts(page))

    @extend_schema(
        summary="Get active reorder alerts",
        description=(
            "Open alerts: stock levels at or below their reorder point, with their figures as "
            "they are now and the quantity suggested to order."
        ),
        responses={
            200: OpenApiResponse(ReorderAlertSerializer, "A page of open alerts."),
            **LIST_ERRORS,
        },
        parameters=COMMON_HEADERS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
