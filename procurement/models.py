import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django_fsm import FSMField, FSMFieldDescriptor, FSMModelMixin, transition

from common.fields import FixedCharField

# Every transition needs the change permission; approving and rejecting the approve one too.
CHANGE_PERMISSION = "procurement.change_purchaseorder"
APPROVE_PERMISSION = "procurement.approve_purchaseorder"
# Writing a PO's content (creating one, editing a draft's supplier, currency or lines).
ADD_PERMISSION = "procurement.add_purchaseorder"


class POStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    SHIPPED = "shipped", "Shipped"
    RECEIVED = "received", "Received"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"


FINAL_STATUSES = (POStatus.RECEIVED, POStatus.REJECTED, POStatus.CANCELLED)
# Statuses in which a delivery is still expected: past its date, such a PO is overdue.
AWAITING_DELIVERY_STATUSES = (POStatus.SUBMITTED, POStatus.APPROVED, POStatus.SHIPPED)


def in_machine_order(statuses):
    """The given statuses in the order ``POStatus`` lists them (the machine's order)."""
    wanted = set(statuses)
    return [status for status in POStatus.values if status in wanted]


class ReceiptStatus(models.TextChoices):
    """How much of a PO has come in (see ``procurement.receiving``)."""

    NONE = "none", "Nothing received"
    PARTIAL = "partial", "Partly received"
    FULL = "full", "Received in full"
    CLOSED_SHORT = "closed_short", "Closed short"


class SameValueDescriptor(FSMFieldDescriptor):
    """Assigning a protected status the value it already holds is no modification: Django does
    so after an insert, with the value the database returns for a column with a default."""

    def __set__(self, instance, value):
        if self.field.name in instance.__dict__ and instance.__dict__[self.field.name] == value:
            return
        super().__set__(instance, value)


class StatusField(FSMField):
    """The protected status column, with the page's database default ``'draft'``."""

    descriptor_class = SameValueDescriptor


def has_line_items(po):
    """``po.has_lines`` when the selectors read it with the PO (lists and detail), else one
    query."""
    known = getattr(po, "has_lines", None)
    return po.line_items.exists() if known is None else known


def shaped_by(po):
    """The usernames of everyone who shaped the PO's content: its creator, everyone who edited
    its supplier, currency or lines, and whoever submitted it (separation of duties).

    ``po.shaper_names`` when the API's reads set it (``selectors.read_details``); else reads
    ``po.edits`` and ``po.status_history``: prefetched by the services' selectors (no query), else
    two queries.
    """
    known = getattr(po, "shaper_names", None)
    if known is not None:
        return known
    names = {po.created_by}
    names.update(edit.edited_by for edit in po.edits.all())
    names.update(
        change.changed_by
        for change in po.status_history.all()
        if change.to_status == POStatus.SUBMITTED
    )
    return names


# ``approved_by`` is the service page's VARCHAR(100); Django's usernames may have 150 characters.
APPROVER_NAME_MAX_LENGTH = 100


def approver_name_fits(user):
    """A username longer than ``approved_by`` holds cannot be recorded as the approver, and a
    cut-down name would name someone else (or nobody): such a user may not approve or reject."""
    return len(user.get_username()) <= APPROVER_NAME_MAX_LENGTH


def may_reject(po, user):
    """Approving and rejecting need the permission, and nobody approves or rejects a PO whose
    content they shaped (``shaped_by``)."""
    return (
        user.has_perm(CHANGE_PERMISSION)
        and user.has_perm(APPROVE_PERMISSION)
        and user.get_username() not in shaped_by(po)
        and approver_name_fits(user)
    )


def approved_by_names(po):
    """The usernames of the approvals recorded so far: ``po.approver_names`` when the API's
    reads set it (``selectors.read_details``), else ``po.approvals`` (prefetched by the services'
    selectors, else one query)."""
    known = getattr(po, "approver_names", None)
    if known is not None:
        return known
    return {approval.approved_by for approval in po.approvals.all()}


def approvals_needed(po):
    """Two approvals above ``PO_SECOND_APPROVAL_ABOVE`` (compared in the PO's own currency),
    else one."""
    return 2 if po.total_amount > settings.PO_SECOND_APPROVAL_ABOVE else 1


def may_approve(po, user):
    """As ``may_reject``, and each approval is by another user: whoever approved the PO once
    (the first of two approvals) does not approve it again."""
    return may_reject(po, user) and user.get_username() not in approved_by_names(po)


class PurchaseOrder(FSMModelMixin, models.Model):
    """A purchase order with its approval state machine (table ``purchase_orders``).

    The transitions below only move ``status`` in memory; ``procurement.services`` locks the row,
    checks permissions, applies side effects (timestamps, stock, history) and saves, in one
    transaction.
    """

    po_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    supplier = models.ForeignKey(
        "suppliers.Supplier",
        on_delete=models.PROTECT,
        db_column="supplier_id",
        related_name="purchase_orders",
        db_index=False,
    )
    status = StatusField(
        max_length=20,
        choices=POStatus.choices,
        default=POStatus.DRAFT,
        db_default=POStatus.DRAFT,
        protected=True,
    )
    total_amount = models.DecimalField(max_digits=10, decimal_places=2)
    currency = FixedCharField(max_length=3, default="USD", db_default="USD")
    approved_by = models.CharField(max_length=APPROVER_NAME_MAX_LENGTH, null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_default=Now(), editable=False)
    # Not on the service page; the contract needs them.
    # Who created it: the approver may not be the creator.
    created_by = models.CharField(max_length=150)
    # Submission/approval time plus the supplier's expected lead time.
    expected_delivery_date = models.DateField(null=True, blank=True)
    # When the goods came in: closes the PO and measures the supplier's actual lead time.
    received_at = models.DateTimeField(null=True, blank=True)
    # When the worker e-mailed the approved PO to the supplier (procurement.tasks); null before.
    sent_to_supplier_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every write; the ETag is derived from it, so a stale If-Match is detectable.
    version = models.IntegerField(default=1, db_default=1, editable=False)
    # Receipts: how much has come in, and when the first goods arrived (the supplier's lead time).
    receipt_status = models.CharField(
        max_length=20,
        choices=ReceiptStatus.choices,
        default=ReceiptStatus.NONE,
        db_default=ReceiptStatus.NONE,
        editable=False,
    )
    first_received_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "purchase_orders"
        ordering = ["-created_at", "po_id"]
        permissions = [("approve_purchaseorder", "Can approve or reject purchase orders")]
        indexes = [
            models.Index(fields=["supplier"], name="idx_po_supplier"),
            models.Index(fields=["status"], name="idx_po_status"),
            models.Index(fields=["created_at"], name="idx_po_created_at"),
            # A supplier's latest first deliveries: the spread of its lead times.
            models.Index(
                fields=["supplier", "-first_received_at"],
                name="idx_po_supplier_first_receipt",
                condition=Q(first_received_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_amount__gte=0), name="purchase_orders_total_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[choice.value for choice in POStatus]),
                name="purchase_orders_status_known",
            ),
            models.CheckConstraint(
                condition=Q(receipt_status__in=[choice.value for choice in ReceiptStatus]),
                name="purchase_orders_receipt_status_known",
            ),
        ]

    def __str__(self):
        return f"PO {self.po_id} ({self.status})"

    @property
    def is_final(self):
        return self.status in FINAL_STATUSES

    @property
    def is_overdue(self):
        """Past its expected delivery date and still awaiting delivery."""
        return (
            self.status in AWAITING_DELIVERY_STATUSES
            and self.expected_delivery_date is not None
            and self.expected_delivery_date < timezone.localdate()
        )

    @transition(
        field=status,
        source=POStatus.DRAFT,
        target=POStatus.SUBMITTED,
        conditions=[has_line_items],
        permission=CHANGE_PERMISSION,
        custom={"button": "Submit for approval", "verb": "submit"},
    )
    def submit(self):
        """Send the PO for approval; it needs at least one line."""

    @transition(
        field=status,
        source=POStatus.SUBMITTED,
        target=POStatus.APPROVED,
        permission=may_approve,
        custom={"button": "Approve", "verb": "approve"},
    )
    def approve(self):
        """The approval that completes the PO's approvals (the only one at or below
        ``PO_SECOND_APPROVAL_ABOVE``, the second above it); not by anyone who shaped it
        (creator, editors, submitter), nor by whoever gave the first. A first of two approvals
        is recorded by the service (``POApproval``) without moving the status."""

    @transition(
        field=status,
        source=POStatus.SUBMITTED,
        target=POStatus.REJECTED,
        permission=may_reject,
        custom={"button": "Reject", "verb": "reject"},
    )
    def reject(self):
        """Reject the PO, with a reason."""

    @transition(
        field=status,
        source=POStatus.APPROVED,
        target=POStatus.SHIPPED,
        permission=CHANGE_PERMISSION,
        custom={"button": "Mark shipped", "verb": "mark as shipped"},
    )
    def ship(self):
        """The supplier has shipped the goods."""

    @transition(
        field=status,
        source=POStatus.SHIPPED,
        target=POStatus.RECEIVED,
        permission=CHANGE_PERMISSION,
        custom={"button": "Receive into stock", "verb": "receive"},
    )
    def receive(self):
        """The goods came in; the service adds them to stock."""

    @transition(
        field=status,
        source=[POStatus.DRAFT, POStatus.SUBMITTED, POStatus.APPROVED],
        target=POStatus.CANCELLED,
        permission=CHANGE_PERMISSION,
        custom={"button": "Cancel order", "verb": "cancel"},
    )
    def cancel(self):
        """Abandon the PO before it ships."""


def transition_to(status):
    """The transition that moves a PO to ``status`` (django-fsm-2's metadata), or ``None``
    (``draft``, or not a status). ``name`` is its method; ``custom`` says how people see it:
    ``button`` (the admin's label) and ``verb`` (in messages: "Could not approve ...")."""
    field = PurchaseOrder._meta.get_field("status")
    return next((t for t in field.get_all_transitions(PurchaseOrder) if t.target == status), None)


class POLineItem(models.Model):
    """One line of a purchase order (table ``po_line_items``)."""

    line_item_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, db_column="po_id", related_name="line_items"
    )
    line_number = models.IntegerField(help_text="Position of the line in the order, from 1.")
    item_type = models.CharField(max_length=50)
    location_id = models.UUIDField()
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    line_total = models.GeneratedField(
        expression=F("quantity") * F("unit_price"),
        output_field=models.DecimalField(max_digits=14, decimal_places=2),
        db_persist=True,
    )
    # The sum of this line's receipt lines, kept by the receiving service under the PO's lock.
    quantity_received = models.IntegerField(default=0, db_default=0, editable=False)

    class Meta:
        db_table = "po_line_items"
        ordering = ["purchase_order", "line_number"]
        indexes = [models.Index(fields=["item_type", "location_id"], name="idx_po_line_item_loc")]
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "line_number"], name="po_line_items_unique_number"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="po_line_items_quantity_min_1"
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="po_line_items_unit_price_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(quantity_received__gte=0),
                name="po_line_items_quantity_received_not_negative",
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.item_type}"

    @property
    def quantity_open(self):
        """What is still expected: nothing once the PO is final (received, closed short,
        cancelled or rejected)."""
        if self.purchase_order.is_final:
            return 0
        return max(self.quantity - self.quantity_received, 0)


class POStatusChange(models.Model):
    """History of a purchase order's status: one row per transition, written by the service."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, db_column="po_id", related_name="status_history"
    )
    from_status = models.CharField(max_length=20, choices=POStatus.choices)
    to_status = models.CharField(max_length=20, choices=POStatus.choices)
    changed_by = models.CharField(max_length=150)
    changed_at = models.DateTimeField(db_default=Now())
    reason = models.TextField(blank=True, default="", db_default="")

    class Meta:
        db_table = "po_status_history"
        ordering = ["purchase_order", "changed_at", "id"]
        verbose_name_plural = "PO status changes"

    def __str__(self):
        return f"{self.from_status} -> {self.to_status} by {self.changed_by}"


class POEdit(models.Model):
    """Who changed a draft's content, and what: one row per edit, written by the service.

    With the creator and the submitter (in the status history), these are the people who shaped
    the PO and so may not approve or reject it.
    """

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, db_column="po_id", related_name="edits"
    )
    edited_by = models.CharField(max_length=150)
    edited_at = models.DateTimeField(db_default=Now())
    # The edited fields, comma-separated: "supplier", "currency", "line_items".
    fields = models.CharField(max_length=100)

    class Meta:
        db_table = "po_edits"
        ordering = ["purchase_order", "edited_at", "id"]
        verbose_name = "PO edit"

    def __str__(self):
        return f"{self.fields} edited by {self.edited_by}"


class Receipt(models.Model):
    """One delivery of goods against a purchase order (table ``po_receipts``), written by
    ``procurement.services.record_receipt`` with its lines."""

    receipt_id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    purchase_order = models.ForeignKey(
        PurchaseOrder,
        on_delete=models.PROTECT,
        db_column="po_id",
        related_name="receipts",
        db_index=False,
    )
    received_by = models.CharField(max_length=150)
    received_at = models.DateTimeField(db_default=Now())
    note = models.TextField(blank=True, default="", db_default="")
    # Set by ``close: true``: the PO was closed short with this receipt.
    closes_short = models.BooleanField(default=False, db_default=False)

    class Meta:
        db_table = "po_receipts"
        ordering = ["purchase_order", "received_at", "receipt_id"]
        indexes = [
            models.Index(fields=["purchase_order", "received_at"], name="idx_receipt_po_time")
        ]

    def __str__(self):
        return f"Receipt {self.receipt_id} of PO {self.purchase_order_id}"


class ReceiptLine(models.Model):
    """The quantity of one PO line that a receipt brought (table ``po_receipt_lines``)."""

    receipt = models.ForeignKey(
        Receipt, on_delete=models.CASCADE, db_column="receipt_id", related_name="lines"
    )
    line_item = models.ForeignKey(
        POLineItem,
        on_delete=models.PROTECT,
        db_column="line_item_id",
        related_name="receipt_lines",
    )
    quantity = models.IntegerField()

    class Meta:
        db_table = "po_receipt_lines"
        ordering = ["receipt", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["receipt", "line_item"], name="po_receipt_lines_unique_line"
            ),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="po_receipt_lines_quantity_min_1"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} of line {self.line_item_id}"


class POApproval(models.Model):
    """One approval of a purchase order (who, when), written by the service: one for a PO at or
    below ``PO_SECOND_APPROVAL_ABOVE``, two by different users above it (the first leaves the PO
    ``submitted``)."""

    purchase_order = models.ForeignKey(
        PurchaseOrder, on_delete=models.CASCADE, db_column="po_id", related_name="approvals"
    )
    approved_by = models.CharField(max_length=150)
    approved_at = models.DateTimeField(db_default=Now())

    class Meta:
        db_table = "po_approvals"
        ordering = ["purchase_order", "approved_at", "id"]
        verbose_name = "PO approval"
        constraints = [
            models.UniqueConstraint(
                fields=["purchase_order", "approved_by"], name="po_approvals_one_per_user"
            )
        ]

    def __str__(self):
        return f"approved by {self.approved_by}"
