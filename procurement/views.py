import re
from uuid import UUID

from django.http import HttpResponse
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

from common.errors import InvalidInput, NotFound
from procurement import presenters, selectors, services
from procurement.documents import purchase_order_filename, purchase_order_pdf
from procurement.filters import PurchaseOrderFilter
from procurement.serializers import (
    PurchaseOrderCreateSerializer,
    PurchaseOrderSerializer,
    PurchaseOrdersFromAlertsResultSerializer,
    PurchaseOrdersFromAlertsSerializer,
    PurchaseOrderUpdateSerializer,
    ReceiptCreateSerializer,
    ReceiptSerializer,
)
from procurement_site.api.conditional import ConditionalGetMixin
from procurement_site.api.fields import UUID_PATTERN
from procurement_site.api.idempotency import IdempotentAPIView
from procurement_site.api.permissions import ModelPermissions
from procurement_site.api.renderers import JSONRenderer, PDFRenderer
from procurement_site.api.schema import (
    COMMON_HEADERS,
    URI_TOO_LONG,
    error_response,
    error_responses,
    etag_header,
    location_header,
)

PO_ID_PARAMETER = OpenApiParameter(
    "po_id",
    OpenApiTypes.UUID,
    OpenApiParameter.PATH,
    description="The purchase order. Not a UUID, or unknown: 404.",
)
# RFC 9110: ``If-Match = "*" / #entity-tag``. A ``#`` list may be empty and may hold empty
# elements (section 5.6.1: ``[ element ] *( OWS "," OWS [ element ] )``), so an empty field value
# and ``"1", ,"2"`` are valid; they name the versions they list (none for an empty value, which
# therefore never matches: 412). Any other text is a 400. Only strong tags compare: a weak one
# never matches.
_ETAG = r'(W/)?"[!#-~]*"'
IF_MATCH_PATTERN = rf"^[ \t]*(\*|({_ETAG})?([ \t]*,[ \t]*({_ETAG})?)*)[ \t]*$"
IF_MATCH_HEADER = OpenApiParameter(
    "If-Match",
    {"type": "string", "pattern": IF_MATCH_PATTERN},
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The `ETag` of the version you read (or a list of them, or `*`): the update applies only "
        "if the PO is still at that version, else 412 and nothing changes. RFC 9110's list "
        "syntax: an empty value or empty list elements are valid (an empty value names no "
        "version, so it never matches: 412); a weak tag never matches; text that is not an "
        "entity-tag list is a 400 `invalid_header`."
    ),
)
_IF_MATCH = re.compile(IF_MATCH_PATTERN)
_ENTITY_TAG = re.compile(r'(W/)?"([^"]*)"')
_UUID = re.compile(UUID_PATTERN)

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
_SUBMITTED = {
    "po_id": "5b2f9d6e-3a81-4c7b-9e24-d0c8f1a7b365",
    "supplier_id": "7d1f2c64-5a7e-4c39-9a53-3b8e2f0c1a11",
    "status": "submitted",
    "total_amount": "1799.88",
    "currency": "USD",
    "approved_by": None,
    "submitted_at": "2026-05-04T09:30:00Z",
    "approved_at": None,
    "created_at": "2026-05-04T09:12:41Z",
    "created_by": "clerk",
    "expected_delivery_date": "2026-05-11",
    "received_at": None,
    "sent_to_supplier_at": None,
    "is_overdue": False,
    "available_transitions": ["approved", "rejected", "cancelled"],
    "approvals": [],
    "line_items": [
        {
            "line_item_id": "c0a8f3e2-4b6d-4f1a-9e7c-2d5b8a1f6e93",
            "item_type": "tent-2p",
            "location_id": "2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b",
            "quantity": 12,
            "unit_price": "149.99",
            "line_total": "1799.88",
            "quantity_received": 0,
            "quantity_open": 12,
        }
    ],
    "status_history": [
        {
            "from_status": "draft",
            "to_status": "submitted",
            "changed_by": "clerk",
            "changed_at": "2026-05-04T09:30:00Z",
            "reason": "",
        }
    ],
    "receipt_status": "none",
    "receipts": [],
}
PO_EXAMPLE = OpenApiExample(
    "A submitted purchase order",
    response_only=True,
    status_codes=["200"],
    value=_SUBMITTED,
)
CREATED_EXAMPLE = OpenApiExample(
    "A new draft",
    response_only=True,
    status_codes=["201"],
    value={
        **_SUBMITTED,
        "po_id": "1e8b4c2d-7f3a-4d69-8c05-b2a9e6f41d37",
        "status": "draft",
        "submitted_at": None,
        "expected_delivery_date": None,
        # As the creator sees it: approving and rejecting are for someone else.
        "available_transitions": ["submitted", "cancelled"],
        "status_history": [],
    },
)


def etag(po):
    return version_etag(po.version)


def version_etag(version):
    return f'"{version}"'


def if_match_versions(request):
    """The versions an ``If-Match`` header names: ``None`` without one (or ``*``), else the set
    of versions in its strong entity tags (empty when none is ours, which never matches).
    ``InvalidInput`` (400) when the value is not RFC 9110's ``"*" / #entity-tag``."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    if not _IF_MATCH.fullmatch(header):
        raise InvalidInput(
            'If-Match is not a list of entity tags (e.g. "3") or *.',
            code="invalid_header",
            field="If-Match",
        )
    if header.strip(" \t") == "*":
        return None
    # A version has a few digits: a longer tag is none of ours (and Python refuses to parse
    # integers of 4300+ digits).
    return {
        int(tag)
        for weak, tag in _ENTITY_TAG.findall(header)
        if not weak and tag.isascii() and tag.isdigit() and len(tag) <= 18
    }


def parse_po_id(raw):
    """The id in its canonical form (any case); any other text names no purchase order."""
    if not _UUID.fullmatch(raw):
        raise NotFound(f"No purchase order {raw}.")
    return UUID(raw)


@extend_schema_view(
    get=extend_schema(
        summary="List purchase orders",
        description="Newest first by default; filter by status, supplier, creation time, overdue.",
        responses={
            200: OpenApiResponse(PurchaseOrderSerializer, "A page of purchase orders."),
            **error_responses(400, 401),
            404: error_response(404, "No such page (`?page=`)."),
            **error_responses(503),
        },
        parameters=COMMON_HEADERS,
    ),
    post=extend_schema(
        summary="Create a new purchase order",
        description=(
            "Creates a `draft` created by the caller (who may then not approve it); "
            "`total_amount` is computed from the lines. Needs `procurement.add_purchaseorder`. "
            "The supplier must exist and be active (else 400 naming `supplier_id`)."
        ),
        request=PurchaseOrderCreateSerializer,
        responses={
            201: OpenApiResponse(PurchaseOrderSerializer, "The new draft."),
            **error_responses(400, 401, 403, 415, 503),
        },
        parameters=[
            *COMMON_HEADERS,
            etag_header(201),
            location_header("The new purchase order: `/purchase-orders/{po_id}`."),
        ],
        examples=[CREATE_EXAMPLE, CREATED_EXAMPLE],
    ),
)
class PurchaseOrderListCreateView(
    ConditionalGetMixin, IdempotentAPIView, generics.ListCreateAPIView
):
    serializer_class = PurchaseOrderSerializer
    # Every change of a PO (lines, history, receipts, approvals, sending) bumps its version;
    # available_transitions depends on the user, is_overdue on the date.
    etag_fields = ["po_id", "version"]
    etag_per_user = True
    etag_per_day = True
    filterset_class = PurchaseOrderFilter

    def get_queryset(self):
        return selectors.purchase_orders()

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(presenters.purchase_orders(page, user=request.user))

    def create(self, request, *args, **kwargs):
        serializer = PurchaseOrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        po = services.create_purchase_order(
            created_by=request.user.get_username(), **serializer.validated_data
        )
        po = selectors.get_purchase_order(po_id=po.po_id, queryset=self.get_queryset())
        headers = {"ETag": etag(po), "Location": f"/purchase-orders/{po.po_id}"}
        return Response(
            presenters.purchase_order(po, user=request.user),
            status=status.HTTP_201_CREATED,
            headers=headers,
        )


@extend_schema_view(
    get=extend_schema(
        summary="Get purchase order details",
        description=(
            "The `ETag` is the PO's version, as `If-Match` takes it. `If-None-Match` naming it "
            "is a 304 with no body, except for an overdue PO (`is_overdue` turns true with the "
            "date, not with a new version): that one is always answered in full. "
            "`available_transitions` is the caller's (`Vary: Authorization, Cookie`)."
        ),
        responses={
            200: OpenApiResponse(PurchaseOrderSerializer, "The purchase order."),
            **error_responses(401, 404, 503),
        },
        parameters=[PO_ID_PARAMETER, *COMMON_HEADERS, etag_header(200)],
        examples=[PO_EXAMPLE],
    ),
    patch=extend_schema(
        summary="Update purchase order status or line items",
        description=(
            "`status` moves the PO along `draft -> submitted -> approved -> shipped -> received`, "
            "`submitted -> rejected` (with a `reason`) and `draft|submitted|approved -> "
            "cancelled`; each move needs `procurement.change_purchaseorder`, approving and "
            "rejecting also `procurement.approve_purchaseorder`, and nobody approves or rejects "
            "a PO whose content they shaped: its creator, anyone who edited its supplier, "
            "currency or lines, and its submitter (403 `own_purchase_order`). A PO whose total "
            "is above `PO_SECOND_APPROVAL_ABOVE` (default 10000.00, in its own currency) needs "
            "two approvals by two different approvers: the first is recorded in `approvals` and "
            "leaves it `submitted`, the second approves it; the same approver twice is a 409 "
            "`already_approved`. The final approval queues the PO's e-mail to the supplier "
            "(`sent_to_supplier_at` once sent). `supplier_id`, "
            "`currency` and `line_items` change only in `draft` (else 409 `not_editable`) and "
            "need `procurement.add_purchaseorder` too; each edit is recorded. Edits and a status "
            "may come together: the edits apply first, all or nothing. A move the machine does "
            "not allow now is a 409 `invalid_transition` listing `allowed_transitions`."
        ),
        request=PurchaseOrderUpdateSerializer,
        responses={
            200: OpenApiResponse(PurchaseOrderSerializer, "The purchase order as saved."),
            **error_responses(400, 401, 403, 404, 409, 412, 415, 503),
        },
        parameters=[PO_ID_PARAMETER, IF_MATCH_HEADER, *COMMON_HEADERS, etag_header(200)],
        examples=[*PATCH_EXAMPLES, PO_EXAMPLE],
    ),
)
class PurchaseOrderDetailView(ConditionalGetMixin, IdempotentAPIView, generics.GenericAPIView):
    serializer_class = PurchaseOrderSerializer
    # The ETag is the version (If-Match's); available_transitions depends on the user: Vary.
    etag_per_user = True

    def get_queryset(self):
        return selectors.purchase_orders()

    def get_current_etag(self):
        version = selectors.revalidatable_version(po_id=parse_po_id(self.kwargs["po_id"]))
        return None if version is None else version_etag(version)

    def get(self, request, po_id):
        po = selectors.read_purchase_order(po_id=parse_po_id(po_id))
        body = presenters.purchase_order(po, user=request.user)
        return Response(body, headers={"ETag": etag(po)})

    def patch(self, request, po_id):
        po_uuid = parse_po_id(po_id)
        serializer = PurchaseOrderUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        po = services.update_purchase_order(
            po_id=po_uuid,
            user=request.user,
            if_match_version=if_match_versions(request),
            **serializer.validated_data,
        )
        po = selectors.fresh_copy(po)
        body = presenters.purchase_order(po, user=request.user)
        return Response(body, headers={"ETag": etag(po)})


class ReceivePermissions(ModelPermissions):
    """Receiving changes a purchase order: ``POST`` needs ``change_purchaseorder``."""

    perms_map = {**ModelPermissions.perms_map, "POST": ["%(app_label)s.change_%(model_name)s"]}


RECEIPT_EXAMPLE = OpenApiExample(
    "Part of a line",
    request_only=True,
    value={
        "lines": [{"line_item_id": "c0a8f3e2-4b6d-4f1a-9e7c-2d5b8a1f6e93", "quantity": 8}],
        "note": "Pallet 1 of 2.",
    },
)
CLOSE_EXAMPLE = OpenApiExample(
    "The last goods, and the rest will not come",
    request_only=True,
    value={
        "lines": [{"line_item_id": "c0a8f3e2-4b6d-4f1a-9e7c-2d5b8a1f6e93", "quantity": 2}],
        "close": True,
    },
)

_RECEIPT = {
    "receipt_id": "8d0e4b1c-2f6a-4c3d-9b7e-5a1f0c2d3e4f",
    "po_id": _SUBMITTED["po_id"],
    "received_by": "warehouse",
    "received_at": "2026-05-12T14:05:00Z",
    "note": "Pallet 1 of 2.",
    "lines": [
        {
            "line_item_id": "c0a8f3e2-4b6d-4f1a-9e7c-2d5b8a1f6e93",
            "item_type": "tent-2p",
            "location_id": "2f6b9e0a-1c3d-4e5f-8a7b-9c0d1e2f3a4b",
            "quantity": 8,
        }
    ],
}
RECEIPT_CREATED_EXAMPLE = OpenApiExample(
    "Part of a line received",
    response_only=True,
    status_codes=["201"],
    value={
        **_RECEIPT,
        "purchase_order": {
            **_SUBMITTED,
            "status": "shipped",
            "approved_by": "approver",
            "approved_at": "2026-05-04T11:00:00Z",
            "available_transitions": [],
            "line_items": [
                {
                    **_SUBMITTED["line_items"][0],
                    "quantity_received": 8,
                    "quantity_open": 4,
                }
            ],
            "status_history": [
                *_SUBMITTED["status_history"],
                {
                    "from_status": "submitted",
                    "to_status": "approved",
                    "changed_by": "approver",
                    "changed_at": "2026-05-04T11:00:00Z",
                    "reason": "",
                },
                {
                    "from_status": "approved",
                    "to_status": "shipped",
                    "changed_by": "warehouse",
                    "changed_at": "2026-05-12T14:05:00Z",
                    "reason": "Goods arrived.",
                },
            ],
            "receipt_status": "partial",
            "receipts": [_RECEIPT],
        },
    },
)


@extend_schema_view(
    post=extend_schema(
        summary="Record goods received against a purchase order",
        description=(
            "One delivery: each line's quantity goes to the stock level of its (`item_type`, "
            "`location_id`) with one `po_receipt` adjustment. Allowed while the PO is `approved` "
            "(it moves to `shipped` first) or `shipped`; any other status is a 409 "
            "`invalid_transition`. When every line is in, or with `close: true`, the PO moves to "
            "`received`. A line may receive at most `quantity * (1 + "
            "OVER_RECEIPT_TOLERANCE_PERCENT / 100)` in total: more is a 409 `over_receipt` "
            "naming the line, and nothing is written. A line id not on this PO is a 400. Needs "
            "`procurement.change_purchaseorder`."
        ),
        request=ReceiptCreateSerializer,
        responses={
            201: OpenApiResponse(ReceiptSerializer, "The receipt, with the PO after it."),
            **error_responses(400, 401, 403, 404, 409, 412, 415, 503),
        },
        parameters=[PO_ID_PARAMETER, IF_MATCH_HEADER, *COMMON_HEADERS],
        examples=[RECEIPT_EXAMPLE, CLOSE_EXAMPLE, RECEIPT_CREATED_EXAMPLE],
    ),
)
class PurchaseOrderReceiptsView(IdempotentAPIView, generics.GenericAPIView):
    serializer_class = ReceiptSerializer
    permission_classes = [ReceivePermissions]

    def get_queryset(self):
        return selectors.purchase_orders()

    def post(self, request, po_id):
        po_uuid = parse_po_id(po_id)
        serializer = ReceiptCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        receipt = services.record_receipt(
            po_id=po_uuid,
            user=request.user,
            if_match_version=if_match_versions(request),
            **serializer.validated_data,
        )
        po = presenters.purchase_order(
            selectors.fresh_copy(receipt.purchase_order), user=request.user
        )
        [body] = [r for r in po["receipts"] if r["receipt_id"] == str(receipt.receipt_id)]
        return Response({**body, "purchase_order": po}, status=status.HTTP_201_CREATED)


@extend_schema_view(
    post=extend_schema(
        summary="Raise draft purchase orders from reorder alerts",
        description=(
            "Draft POs grouped by supplier and currency, created by the caller (or added to the "
            "caller's own newest draft for that supplier and currency). Each alert orders from "
            "the preferred catalog supplier of its item type (`/supplier-items`), at the "
            "catalog price, its `suggested_quantity` raised to the entry's `min_order_quantity` "
            "and then to a multiple of its `order_multiple`; without a preferred entry, from the "
            "supplier of the item's last committed PO at its last price. One bad alert never "
            "fails the others: it is listed in `skipped` with its reason (no longer open, "
            "already on an open PO, nothing to order, no known supplier, a quantity over "
            "1,000,000, a draft full at 500 lines or at the largest total). An alert whose PO "
            "was cancelled or rejected may be raised again. Needs "
            "`procurement.add_purchaseorder`."
        ),
        request=PurchaseOrdersFromAlertsSerializer,
        responses={
            201: OpenApiResponse(
                PurchaseOrdersFromAlertsResultSerializer,
                "The drafts raised (possibly none) and the alerts skipped.",
            ),
            **error_responses(400, 401, 403, 415, 503),
        },
        parameters=COMMON_HEADERS,
        examples=[
            OpenApiExample(
                "Two alerts",
                request_only=True,
                value={
                    "alert_ids": [
                        "0b7c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4",
                        "9e8d7c6b-5a49-4382-b716-05f4e3d2c1b0",
                    ]
                },
            ),
            OpenApiExample(
                "One draft raised, one alert skipped",
                response_only=True,
                status_codes=["201"],
                value={
                    "purchase_orders": [
                        {
                            **_SUBMITTED,
                            "status": "draft",
                            "submitted_at": None,
                            "expected_delivery_date": None,
                            "available_transitions": ["submitted", "cancelled"],
                            "status_history": [],
                        }
                    ],
                    "skipped": [
                        {
                            "alert_id": "9e8d7c6b-5a49-4382-b716-05f4e3d2c1b0",
                            "reason": "it is already on purchase order 5b2f9d6e",
                        }
                    ],
                },
            ),
        ],
    ),
)
class PurchaseOrdersFromAlertsView(IdempotentAPIView, generics.GenericAPIView):
    serializer_class = PurchaseOrdersFromAlertsResultSerializer

    def get_queryset(self):
        # For the permission: raising drafts needs procurement.add_purchaseorder.
        return selectors.purchase_orders()

    def post(self, request):
        serializer = PurchaseOrdersFromAlertsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.raise_purchase_orders_for_alerts(
            alert_ids=serializer.validated_data["alert_ids"], user=request.user
        )
        pos = list(
            selectors.purchase_orders().filter(pk__in=[order.po.po_id for order in result.orders])
        )
        raised = {
            body["po_id"]: body for body in presenters.purchase_orders(pos, user=request.user)
        }
        body = {
            "purchase_orders": [raised[str(order.po.po_id)] for order in result.orders],
            "skipped": [
                {"alert_id": str(skip.alert_id), "reason": skip.reason} for skip in result.skipped
            ],
        }
        return Response(body, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=extend_schema(
        summary="Get the purchase order document (PDF)",
        description=(
            "The PO as its supplier receives it (and as it is e-mailed to the supplier on "
            "approval): NovaTrek, the supplier's name and e-mail, the PO id, status and dates, "
            "every line, the total and currency, as a PDF whose text is extractable. Any status; "
            "needs only a login. Errors are JSON."
        ),
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, "The PDF document (`attachment`, named after the PO)."
            ),
            **{(code, "application/json"): error_response(code) for code in (401, 404, 406, 503)},
            **URI_TOO_LONG,
        },
        # The document is chosen by its path (and Accept), not by DRF's `?format=`.
        parameters=[PO_ID_PARAMETER, OpenApiParameter("format", exclude=True), *COMMON_HEADERS],
    ),
)
class PurchaseOrderDocumentView(generics.GenericAPIView):
    renderer_classes = [JSONRenderer, PDFRenderer]

    def get_queryset(self):
        return selectors.list_purchase_orders()

    def get(self, request, po_id):
        po = selectors.get_purchase_order(po_id=parse_po_id(po_id))
        response = HttpResponse(purchase_order_pdf(po), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{purchase_order_filename(po)}"'
        return response

    def handle_exception(self, exc):
        """Errors are JSON, whatever the client accepted."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
