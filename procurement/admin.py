"""Purchase orders in the admin: the procurement staff's console.

Every write calls ``procurement.services``, the same functions as the API, so that permissions,
the creator-cannot-approve rule, row locks, history and stock effects are identical:

- adding a PO is ``create_purchase_order`` (``created_by`` = the user); saving a draft is one
  ``update_purchase_order`` call with the supplier, currency and all lines, so the total is
  recomputed by the service; only drafts are editable, everything else is read-only;
- the status is never a form field: it moves by the transition buttons of the change page, which
  POST to ``<po_id>/transition/<status>/`` and call ``transition_purchase_order``; a refusal comes
  back as an error message with the service's reason;
- "Approve selected" approves each PO through the same service and reports, in one message, which
  were approved and which refused and why;
- on an approved or shipped PO, "Receive goods" opens a form with one row per open line
  (prefilled with the open quantity; 0 skips the line) and "close short", which calls
  ``record_receipt``; the PO's receipts are listed inline;
- on reorder alerts, "Raise draft purchase orders" calls ``raise_purchase_orders_for_alerts``.
"""

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import path, reverse
from django.utils.html import format_html

from common.admin import ReadOnlyAdminMixin, adopt_saved
from common.errors import Conflict, DomainError, NotFound, PreconditionFailed
from procurement import selectors, services
from procurement.documents import purchase_order_filename, purchase_order_pdf
from procurement.forms import (
    POLineItemForm,
    POLineItemFormSet,
    PurchaseOrderForm,
    ReceiveGoodsForm,
)
from procurement.models import (
    APPROVE_PERMISSION,
    CHANGE_PERMISSION,
    POEdit,
    POLineItem,
    POStatus,
    POStatusChange,
    PurchaseOrder,
    Receipt,
    approvals_needed,
    transition_to,
)
from stock import admin as stock_admin
from stock.models import ReorderAlert

STALE_MESSAGE = (
    "{label} was changed by someone else after this page was loaded; nothing was done. "
    "Review it and try again."
)


def po_label(po_id):
    return f"PO {str(po_id)[:8]}"


def _refusal(error, label):
    if isinstance(error, PreconditionFailed):
        return STALE_MESSAGE.format(label=label)
    return error.message


def _is_draft(obj):
    return obj is None or obj.status == POStatus.DRAFT


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Rows the services wrote (history, edits, receipts)."""

    extra = 0
    can_delete = False


class POLineItemInline(admin.TabularInline):
    """Editable while the PO is a draft, read-only after."""

    model = POLineItem
    form = POLineItemForm
    formset = POLineItemFormSet
    fields = ["item_type", "location_id", "quantity", "unit_price", "line_total"]
    readonly_fields = ["line_total"]
    ordering = ["line_number"]

    def get_extra(self, request, obj=None, **kwargs):
        return 1 if obj is None else 0

    def has_add_permission(self, request, obj):
        return _is_draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_draft(obj) and super().has_delete_permission(request, obj)


class POStatusChangeInline(ReadOnlyInline):
    """The status history, as the service wrote it."""

    model = POStatusChange
    fields = ["changed_at", "from_status", "to_status", "changed_by", "reason"]
    readonly_fields = fields
    ordering = ["changed_at", "id"]
    verbose_name_plural = "status history"


class POEditInline(ReadOnlyInline):
    """Who edited the draft's content: with the creator and the submitter, the people who may
    not approve or reject it."""

    model = POEdit
    fields = ["edited_at", "edited_by", "fields"]
    readonly_fields = fields
    ordering = ["edited_at", "id"]
    verbose_name_plural = "edits"


class ReceiptInline(ReadOnlyInline):
    """The PO's receipts (newest last), as ``record_receipt`` wrote them."""

    model = Receipt
    fields = ["received_at", "received_by", "goods", "note", "closes_short"]
    readonly_fields = fields
    ordering = ["received_at", "receipt_id"]
    verbose_name_plural = "receipts"

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("lines__line_item")

    @admin.display(description="goods")
    def goods(self, obj):
        return (
            ", ".join(f"{line.quantity} x {line.line_item.item_type}" for line in obj.lines.all())
            or "-"
        )


class AwaitingMyApprovalFilter(admin.SimpleListFilter):
    """Submitted POs the user may still approve: not created, edited, submitted or already
    approved by them."""

    title = "approval"
    parameter_name = "awaiting"

    def lookups(self, request, model_admin):
        return [("me", "Awaiting my approval")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return selectors.awaiting_approval_by(queryset, username=request.user.get_username())
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = "overdue"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Past its expected delivery date")]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(selectors.overdue_condition())
        return queryset


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(stock_admin.DomainErrorsAsMessagesMixin, admin.ModelAdmin):
    form = PurchaseOrderForm
    change_form_template = "admin/procurement/purchaseorder/change_form.html"
    list_display = [
        "label",
        "supplier",
        "status",
        "receipt_status",
        "total",
        "expected_delivery_date",
        "overdue",
        "created_at",
        "created_by",
        "approved_by",
    ]
    list_display_links = ["label"]
    list_filter = [
        "status",
        "receipt_status",
        ("supplier", admin.RelatedOnlyFieldListFilter),
        "created_at",
        "expected_delivery_date",
        OverdueFilter,
        AwaitingMyApprovalFilter,
    ]
    search_fields = [
        "po_id__startswith",
        "supplier__name",
        "created_by",
        "approved_by",
        "line_items__item_type",
    ]
    date_hierarchy = "created_at"
    list_select_related = ["supplier"]

    class Media:
        css = {"all": ["planning/charts.css"]}

    actions = ["approve_selected", "send_selected_to_supplier"]
    inlines = [POLineItemInline, ReceiptInline, POStatusChangeInline, POEditInline]
    readonly_fields = [
        "po_id",
        "status",
        "total_amount",
        "created_by",
        "created_at",
        "submitted_at",
        "approved_by",
        "approved_at",
        "expected_delivery_date",
        "received_at",
        "receipt_status",
        "approvals_given",
        "sent_to_supplier_at",
        "version",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("supplier")

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return [
                (
                    None,
                    {
                        "fields": ["supplier", "currency"],
                        "description": (
                            "A new purchase order is a draft; its total is the sum of its lines."
                        ),
                    },
                )
            ]
        return [
            (
                None,
                {
                    "fields": [
                        "po_id",
                        "status",
                        "supplier",
                        "currency",
                        "total_amount",
                        "created_by",
                        "created_at",
                    ]
                },
            ),
            (
                "Approval and delivery",
                {
                    "fields": [
                        "submitted_at",
                        "approvals_given",
                        "approved_by",
                        "approved_at",
                        "expected_delivery_date",
                        "sent_to_supplier_at",
                        "received_at",
                        "receipt_status",
                        "version",
                    ]
                },
            ),
        ]

    def get_inlines(self, request, obj):
        """Receipts only where goods can have come: approved, shipped and received POs."""
        if obj is not None and obj.status in (*services.RECEIVING_STATUSES, POStatus.RECEIVED):
            return self.inlines
        return [inline for inline in self.inlines if inline is not ReceiptInline]

    def has_change_permission(self, request, obj=None):
        """Only a draft is edited with the form; other POs are shown read-only (their status
        moves by the transition buttons)."""
        return _is_draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        """Purchase orders are kept for the record: cancel instead."""
        return False

    def has_approve_permission(self, request):
        return request.user.has_perm(APPROVE_PERMISSION)

    # --- list columns --------------------------------------------------------------------

    @admin.display(description="purchase order", ordering="po_id")
    def label(self, obj):
        return po_label(obj.po_id)

    @admin.display(description="total", ordering="total_amount")
    def total(self, obj):
        return f"{obj.total_amount} {obj.currency}"

    @admin.display(description="approvals")
    def approvals_given(self, obj):
        """Every approval so far, who and when: one, or two above PO_SECOND_APPROVAL_ABOVE."""
        approvals = [
            f"{approval.approved_by} ({approval.approved_at:%Y-%m-%d %H:%M} UTC)"
            for approval in obj.approvals.order_by("approved_at", "id")
        ]
        return "; ".join(approvals) or "-"

    @admin.display(description="overdue")
    def overdue(self, obj):
        """A warning on an overdue PO (not the admin's green tick, which reads as "fine"), nothing
        on the others."""
        if not obj.is_overdue:
            return None
        return format_html(
            '<span class="po-overdue"><img src="{}" alt="" width="14" height="14"> Overdue</span>',
            static("admin/img/icon-alert.svg"),
        )

    # --- saving through the services -------------------------------------------------------

    def save_model(self, request, obj, form, change):
        """Nothing here: the PO and its lines are saved by one service call in
        ``save_related``, once the line formset is known."""

    def save_related(self, request, form, formsets, change):
        lines_formset = next(
            (formset for formset in formsets if isinstance(formset, POLineItemFormSet)), None
        )
        lines = None
        if lines_formset is not None and (not change or lines_formset.has_changed()):
            lines = [line for _, line in lines_formset.submitted_lines()]
        data = form.cleaned_data
        if not change:
            po = services.create_purchase_order(
                supplier_id=data["supplier"].pk,
                currency=data["currency"],
                line_items=lines or [],
                created_by=request.user.get_username(),
            )
        else:
            edits = {}
            if "supplier" in form.changed_data:
                edits["supplier_id"] = data["supplier"].pk
            if "currency" in form.changed_data:
                edits["currency"] = data["currency"]
            if lines is not None:
                edits["line_items"] = lines
            if not edits:
                return
            po = services.update_purchase_order(
                po_id=form.instance.pk,
                user=request.user,
                if_match_version=data.get("version_seen"),
                **edits,
            )
        adopt_saved(form.instance, po)

    def response_post_save_add(self, request, obj):
        """To the new draft's page, where it is submitted."""
        return HttpResponseRedirect(
            reverse("admin:procurement_purchaseorder_change", args=[obj.pk])
        )

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return [{"added": {}}]
        fields = [name for name in form.changed_data if name != "version_seen"]
        if any(isinstance(f, POLineItemFormSet) and f.has_changed() for f in formsets):
            fields.append("line items")
        return [{"changed": {"fields": fields}}] if fields else []

    def domain_error_message(self, error, object_id):
        return _refusal(error, po_label(object_id) if object_id else "The purchase order")

    # --- transition buttons ----------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        buttons = []
        if obj is not None:
            for status in selectors.available_transitions(po=obj, user=request.user):
                buttons.append(
                    {
                        "status": status,
                        "label": transition_to(status).custom["button"],
                        "needs_reason": status == POStatus.REJECTED,
                        "url": reverse(
                            "admin:procurement_purchaseorder_transition", args=[obj.pk, status]
                        ),
                    }
                )
        context["transition_buttons"] = buttons
        context["receive_url"] = (
            reverse("admin:procurement_purchaseorder_receive", args=[obj.pk])
            if obj is not None
            and obj.status in services.RECEIVING_STATUSES
            and request.user.has_perm(CHANGE_PERMISSION)
            else None
        )
        if obj is not None:
            context["approval_note"] = _approval_note(obj)
            context["document_url"] = reverse(
                "admin:procurement_purchaseorder_document", args=[obj.pk]
            )
            if obj.status in services.SENDABLE_STATUSES and self.has_send_permission(request):
                context["resend_url"] = reverse(
                    "admin:procurement_purchaseorder_send", args=[obj.pk]
                )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        transition = path(
            "<path:object_id>/transition/<str:status>/",
            self.admin_site.admin_view(self.transition_view),
            name="procurement_purchaseorder_transition",
        )
        receive = path(
            "<path:object_id>/receive/",
            self.admin_site.admin_view(self.receive_view),
            name="procurement_purchaseorder_receive",
        )

        document = path(
            "<path:object_id>/document/",
            self.admin_site.admin_view(self.document_view),
            name="procurement_purchaseorder_document",
        )
        send = path(
            "<path:object_id>/send/",
            self.admin_site.admin_view(self.send_view),
            name="procurement_purchaseorder_send",
        )

        return [transition, receive, document, send, *super().get_urls()]

    def receive_view(self, request, object_id):
        """The "Receive goods" form: one row per open line, through ``record_receipt``. Refusals
        come back as form errors (400; 409 for an over-receipt or a PO no longer receivable) and
        nothing is written."""
        if not request.user.has_perm(CHANGE_PERMISSION):
            raise PermissionDenied
        po = self.get_object(request, object_id)
        if po is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        label = po_label(po.po_id)
        change_url = reverse("admin:procurement_purchaseorder_change", args=[po.pk])
        if po.status not in services.RECEIVING_STATUSES:
            self.message_user(
                request,
                f"{label} is {po.get_status_display().lower()}: only an approved or shipped "
                "purchase order takes receipts.",
                messages.ERROR,
            )
            return HttpResponseRedirect(change_url)
        lines = [
            line
            for line in po.line_items.select_related("purchase_order").order_by("line_number")
            if line.quantity_open > 0
        ]
        status = 200
        if request.method == "POST":
            form = ReceiveGoodsForm(request.POST, lines=lines)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    receipt = services.record_receipt(
                        po_id=po.po_id,
                        user=request.user,
                        lines=form.receipt_lines(),
                        note=data["note"],
                        close=data["close_short"],
                        if_match_version=data["version"],
                    )
                except DomainError as error:
                    form.add_error(None, _refusal(error, label))
                    status = 409 if isinstance(error, Conflict | PreconditionFailed) else 400
                else:
                    saved = receipt.purchase_order
                    received = sum(line.quantity for line in receipt.lines.all())
                    self.message_user(
                        request,
                        f"Received {received} unit(s) on {label}; it is now "
                        f"{saved.get_status_display().lower()} "
                        f"({saved.get_receipt_status_display().lower()}).",
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(change_url)
            else:
                status = 400
        else:
            form = ReceiveGoodsForm(lines=lines, initial={"version": po.version})
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Receive goods",
            "subtitle": label,
            "po": po,
            "po_label": label,
            "form": form,
        }
        return TemplateResponse(
            request, "admin/procurement/purchaseorder/receive_form.html", context, status=status
        )

    def has_send_permission(self, request):
        return request.user.has_perm(services.CHANGE_PERMISSION)

    def document_view(self, request, object_id):
        """ "Download PDF": the document the supplier receives, as the API serves it."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            po = selectors.get_purchase_order(po_id=object_id)
        except NotFound as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:procurement_purchaseorder_changelist"))
        response = HttpResponse(purchase_order_pdf(po), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{purchase_order_filename(po)}"'
        return response

    def send_view(self, request, object_id):
        """POST only: "Send to supplier again" through ``resend_purchase_order_to_supplier``."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        label = po_label(object_id)
        try:
            po = services.resend_purchase_order_to_supplier(po_id=object_id, user=request.user)
        except NotFound as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:procurement_purchaseorder_changelist"))
        except DomainError as error:
            self.message_user(request, f"Could not send {label}: {error.message}", messages.ERROR)
        else:
            self.message_user(
                request,
                f"{label} will be e-mailed to {po.supplier.contact_email} by the worker.",
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse("admin:procurement_purchaseorder_change", args=[object_id])
        )

    @admin.action(description="Send selected to the supplier again", permissions=["send"])
    def send_selected_to_supplier(self, request, queryset):
        queued, refused = [], []
        for po_id in queryset.order_by("po_id").values_list("po_id", flat=True):
            label = po_label(po_id)
            try:
                services.resend_purchase_order_to_supplier(po_id=po_id, user=request.user)
            except DomainError as error:
                refused.append(f"{label} ({error.message})")
            else:
                queued.append(label)
        parts = []
        if queued:
            parts.append(f"Queued for sending {len(queued)}: {', '.join(queued)}.")
        if refused:
            parts.append(f"Refused {len(refused)}: {'; '.join(refused)}.")
        level = (
            messages.SUCCESS if not refused else (messages.WARNING if queued else messages.ERROR)
        )
        self.message_user(request, " ".join(parts), level)

    def transition_view(self, request, object_id, status):
        """POST only: move the PO to ``status`` through ``transition_purchase_order``, with the
        reason (rejections) and the version the page showed; then back to the PO's page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_view_permission(request):
            raise PermissionDenied
        label = po_label(object_id)
        transition = transition_to(status)
        verb = transition.custom["verb"] if transition else f"move to {status}"
        version = request.POST.get("version", "")
        try:
            po = services.transition_purchase_order(
                po_id=object_id,
                target_status=status,
                user=request.user,
                reason=request.POST.get("reason", ""),
                if_match_version=int(version) if version.isdigit() else None,
            )
        except NotFound as error:
            self.message_user(request, error.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:procurement_purchaseorder_changelist"))
        except DomainError as error:
            self.message_user(
                request, f"Could not {verb} {label}: {_refusal(error, label)}", messages.ERROR
            )
        else:
            if status == POStatus.APPROVED and po.status == POStatus.SUBMITTED:
                message = (
                    f"{label}: first approval recorded; it needs a second approval by another "
                    "approver."
                )
            else:
                message = f"{label} is now {po.get_status_display().lower()}."
            self.message_user(request, message, messages.SUCCESS)
        return HttpResponseRedirect(
            reverse("admin:procurement_purchaseorder_change", args=[object_id])
        )

    # --- bulk approval ---------------------------------------------------------------------

    @admin.action(description="Approve selected purchase orders", permissions=["approve"])
    def approve_selected(self, request, queryset):
        """Each PO is approved in its own transaction by the service: one refusal does not undo
        the others. One message lists both outcomes."""
        approved, first, refused = [], [], []
        for po_id in queryset.order_by("po_id").values_list("po_id", flat=True):
            label = po_label(po_id)
            try:
                po = services.transition_purchase_order(
                    po_id=po_id, target_status=POStatus.APPROVED, user=request.user
                )
            except DomainError as error:
                refused.append(f"{label} ({_refusal(error, label)})")
            else:
                (approved if po.status == POStatus.APPROVED else first).append(label)
        parts = []
        if approved:
            parts.append(f"Approved {len(approved)}: {', '.join(approved)}.")
        if first:
            parts.append(
                f"First approval recorded for {len(first)} (a second approver must approve "
                f"them): {', '.join(first)}."
            )
        if refused:
            parts.append(f"Refused {len(refused)}: {'; '.join(refused)}.")
        if not refused:
            level = messages.SUCCESS
        elif approved or first:
            level = messages.WARNING
        else:
            level = messages.ERROR
        self.message_user(request, " ".join(parts), level)


def _approval_note(po):
    """What the approval of a submitted PO still needs, for its page."""
    if po.status != POStatus.SUBMITTED:
        return ""
    needed = approvals_needed(po)
    given = [approval.approved_by for approval in po.approvals.all()]
    if needed == 1:
        return ""
    if not given:
        return (
            f"Above {settings.PO_SECOND_APPROVAL_ABOVE} {po.currency}: needs two approvals by "
            "two different approvers."
        )
    return f"First approval by {', '.join(given)}; needs a second approval by another approver."


# Reorder alerts are registered here, with the action that raises purchase orders: the stock
# app, which defines their admin, must not depend on procurement.
@admin.register(ReorderAlert)
class ReorderAlertAdmin(stock_admin.ReorderAlertAdmin):
    list_display = [*stock_admin.ReorderAlertAdmin.list_display, "purchase_order"]
    actions = ["raise_purchase_orders"]

    @admin.display(description="purchase order")
    def purchase_order(self, obj):
        if obj.po_id is None:
            return "-"
        url = reverse("admin:procurement_purchaseorder_change", args=[obj.po_id])
        return format_html('<a href="{}">{}</a>', url, po_label(obj.po_id))

    def has_raise_permission(self, request):
        return request.user.has_perm(services.ADD_PERMISSION)

    @admin.action(description="Raise draft purchase orders", permissions=["raise"])
    def raise_purchase_orders(self, request, queryset):
        try:
            result = services.raise_purchase_orders_for_alerts(
                alert_ids=list(queryset.values_list("pk", flat=True)), user=request.user
            )
        except DomainError as error:
            self.message_user(request, f"No purchase order raised: {error.message}", messages.ERROR)
            return
        parts = []
        if result.orders:
            raised = [
                f"{po_label(order.po.po_id)} to {order.po.supplier.name} "
                + (
                    f"(new draft, {len(order.alerts)} line(s))"
                    if order.created
                    else f"({len(order.alerts)} line(s) added to your draft)"
                )
                for order in result.orders
            ]
            parts.append(
                f"Raised {len(result.orders)} draft purchase order(s): {'; '.join(raised)}."
            )
        if result.skipped:
            skipped = [f"{skip.label}: {skip.reason}" for skip in result.skipped]
            parts.append(f"Skipped {len(result.skipped)} alert(s): {'; '.join(skipped)}.")
        if not result.skipped:
            level = messages.SUCCESS
        elif result.orders:
            level = messages.WARNING
        else:
            level = messages.ERROR
        self.message_user(request, " ".join(parts), level)
