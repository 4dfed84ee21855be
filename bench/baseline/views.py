"""The baseline's views: ModelViewSets over the app's models.

The DRF classes a team would set once in ``REST_FRAMEWORK`` are on ``PlainViewSet`` instead, so
that the baseline is the same wherever it is mounted: under its own settings
(``bench.baseline.settings``, gunicorn) and in the app's process (``bench.profile --cpu``, its
test), whose ``REST_FRAMEWORK`` is the app's. They are DRF's own classes, but for the app's token
authentication (the same auth for all three servers).
"""

from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_filters.rest_framework import DjangoFilterBackend
from django_fsm import can_proceed
from rest_framework import exceptions, pagination, parsers, permissions, renderers, viewsets
from rest_framework.authentication import SessionAuthentication

from bench.baseline import serializers
from procurement.models import (
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    ReceiptStatus,
)
from procurement_site.api.authentication import ApiTokenAuthentication
from stock.models import AdjustmentReason, ReorderAlert, StockAdjustment, StockLevel


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class PlainViewSet(viewsets.ModelViewSet):
    authentication_classes = [ApiTokenAuthentication, SessionAuthentication]
    permission_classes = [permissions.DjangoModelPermissions]
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    renderer_classes = [renderers.JSONRenderer]
    parser_classes = [parsers.JSONParser]
    throttle_classes = []


class StockLevelViewSet(PlainViewSet):
    queryset = StockLevel.objects.select_related("reorder_calculation")
    serializer_class = serializers.StockLevelSerializer
    filterset_fields = ["location_id", "item_type"]
    http_method_names = ["get"]


class StockAdjustmentViewSet(PlainViewSet):
    """``POST``: the level's quantity moved with one ``F()`` update, then the ledger row."""

    queryset = StockAdjustment.objects.select_related("stock")
    serializer_class = serializers.StockAdjustmentSerializer
    http_method_names = ["post"]

    @transaction.atomic
    def perform_create(self, serializer):
        stock = serializer.validated_data["stock"]
        StockLevel.objects.filter(pk=stock.pk).update(
            quantity_on_hand=F("quantity_on_hand") + serializer.validated_data["quantity_delta"]
        )
        stock.refresh_from_db(fields=["quantity_on_hand"])
        serializer.save(
            adjusted_by=self.request.user.get_username(), quantity_after=stock.quantity_on_hand
        )


def quantity_on_order():
    lines = (
        POLineItem.objects.filter(
            purchase_order__status__in=[POStatus.APPROVED, POStatus.SHIPPED],
            item_type=OuterRef("stock__item_type"),
            location_id=OuterRef("stock__location_id"),
        )
        .order_by()
        .values("item_type", "location_id")
        .annotate(total=Sum(F("quantity") - F("quantity_received")))
        .values("total")
    )
    return Coalesce(Subquery(lines, output_field=IntegerField()), 0)


class ReorderAlertViewSet(PlainViewSet):
    queryset = (
        ReorderAlert.objects.filter(resolved_at__isnull=True)
        .select_related("stock")
        .annotate(quantity_on_order=quantity_on_order())
    )
    serializer_class = serializers.ReorderAlertSerializer
    filterset_fields = {"stock__location_id": ["exact"], "stock__item_type": ["exact"]}
    http_method_names = ["get"]


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The purchase order cannot move to this status."
    default_code = "invalid_transition"


class PurchaseOrderViewSet(PlainViewSet):
    """``GET`` one PO with its lines and history; ``PATCH {"status": "received"}`` receives a
    shipped PO in full: each line's level (created if missing) moved with an ``F()`` update and
    a ledger row, the lines marked received, a history row."""

    queryset = PurchaseOrder.objects.prefetch_related(
        "approvals", "line_items", "status_history", "receipts"
    )
    serializer_class = serializers.PurchaseOrderSerializer
    http_method_names = ["get", "patch"]

    def perform_update(self, serializer):
        if serializer.validated_data.get("status") != POStatus.RECEIVED:
            raise exceptions.ValidationError({"status": ["Only 'received' is supported."]})
        username = self.request.user.get_username()
        with transaction.atomic():
            po = PurchaseOrder.objects.select_for_update().get(pk=serializer.instance.pk)
            if not can_proceed(po.receive):
                raise Conflict()
            po.receive()
            po.received_at = po.first_received_at = timezone.now()
            po.receipt_status = ReceiptStatus.FULL
            po.save()
            adjustments = []
            for line in po.line_items.all():
                level, _ = StockLevel.objects.get_or_create(
                    item_type=line.item_type,
                    location_id=line.location_id,
                    defaults={"quantity_on_hand": 0, "reorder_point": 0, "reorder_quantity": 0},
                )
                StockLevel.objects.filter(pk=level.pk).update(
                    quantity_on_hand=F("quantity_on_hand") + line.quantity
                )
                level.refresh_from_db(fields=["quantity_on_hand"])
                adjustments.append(
                    StockAdjustment(
                        stock=level,
                        reason=AdjustmentReason.PO_RECEIPT,
                        quantity_delta=line.quantity,
                        quantity_after=level.quantity_on_hand,
                        adjusted_by=username,
                        po_id=po.pk,
                    )
                )
            StockAdjustment.objects.bulk_create(adjustments)
            po.line_items.update(quantity_received=F("quantity"))
            POStatusChange.objects.create(
                purchase_order=po,
                from_status=POStatus.SHIPPED,
                to_status=POStatus.RECEIVED,
                changed_by=username,
            )
        serializer.instance = po
