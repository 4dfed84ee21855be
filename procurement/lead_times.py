"""Supplier lead times learned from receipts, the suppliers' on-time and in-full rates, and
delivery estimates.

A PO's actual lead time is ``first_received_at - approved_at`` in fractional days: the delivery
that brings it its first goods. A supplier's expected lead time and its spread are learned from
them (the formulas are in ``procurement.statistics``), incrementally at each first delivery. Its
on-time and in-full rates (POs moved to ``received`` in the last 365 days) come from daily totals
(``suppliers.services``). Delivery estimates use the learned lead time once
``MIN_RECEIPTS_FOR_LEARNED`` receipts exist, the declared one before.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from common.errors import NotFound
from procurement.models import POStatus, PurchaseOrder, ReceiptStatus
from procurement.statistics import (
    EWMA_ALPHA,
    SPREAD_SAMPLE,
    effective_lead_time,
    lead_time_days,
    lead_time_spread,
    learned_lead_time,
)
from suppliers.models import MAX_LEAD_TIME_DAYS, Supplier
from suppliers.services import (
    RATE_WINDOW_DAYS,
    rebuild_delivery_days,
    record_completed_order,
    record_lead_time_observation,
    refresh_supplier_rates,
    update_supplier_performance,
)


@dataclass(frozen=True)
class SupplierPerformance:
    expected_lead_time_days: float
    lead_time_stddev_days: float
    on_time_rate: float | None
    receipts_count: int


def supplier_performance(*, declared_lead_time_days, receipts, now):
    """Compute a supplier's performance from its receipts (pure).

    ``receipts``: ``(approved_at, received_at, expected_delivery_date)`` in ``received_at`` order.
    A receipt without an expected delivery date counts for the lead time, not for the on-time rate.
    """
    lead_times = [
        lead_time_days(approved_at, received_at) for approved_at, received_at, _ in receipts
    ]
    expected = float(declared_lead_time_days)
    for actual in lead_times:
        expected = EWMA_ALPHA * actual + (1 - EWMA_ALPHA) * expected
    spread = lead_time_spread(lead_times[-SPREAD_SAMPLE:])
    since = now - timedelta(days=RATE_WINDOW_DAYS)
    judged = [
        timezone.localdate(received_at) <= due
        for _, received_at, due in receipts
        if received_at >= since and due is not None
    ]
    return SupplierPerformance(
        expected_lead_time_days=expected,
        lead_time_stddev_days=spread,
        on_time_rate=sum(judged) / len(judged) if judged else None,
        receipts_count=len(lead_times),
    )


def refresh_supplier_performance(*, supplier_id, now=None, po_id=None):
    """Recompute and store a supplier's performance from its whole history; returns it.

    A repair and a seeding tool (``seed_demo``): receipts keep the figures up to date
    incrementally (``learn_lead_time``, ``record_po_completion``) without reading the history.
    Lead times come from each PO's first delivery (``first_received_at``, else ``received_at``
    for POs received before receipts existed); the daily totals behind the 365-day rates are
    rebuilt from the received POs. The supplier row is locked first. With ``po_id``, that PO's
    actual lead time and the figures learned as of its delivery are kept as a row of the
    supplier's lead-time history (``seed_demo`` rebuilds the history this way).
    """
    now = now or timezone.now()
    with transaction.atomic():
        supplier = _lock_supplier(supplier_id)
        receipts = list(
            PurchaseOrder.objects.filter(
                Q(first_received_at__isnull=False)
                | Q(status=POStatus.RECEIVED, received_at__isnull=False),
                supplier_id=supplier_id,
                approved_at__isnull=False,
            )
            .annotate(delivered_at=Coalesce("first_received_at", "received_at"))
            .order_by("delivered_at", "po_id")
            .values_list("approved_at", "delivered_at", "expected_delivery_date", "po_id")
        )
        completed = PurchaseOrder.objects.filter(
            supplier_id=supplier_id, status=POStatus.RECEIVED, received_at__isnull=False
        ).values_list("received_at", "expected_delivery_date", "receipt_status")
        rebuild_delivery_days(
            supplier_id=supplier_id,
            completed_orders=[
                (
                    timezone.localdate(received_at),
                    _on_time(received_at, due),
                    receipt_status != ReceiptStatus.CLOSED_SHORT,
                )
                for received_at, due, receipt_status in completed
            ],
        )
        performance = supplier_performance(
            declared_lead_time_days=supplier.lead_time_days,
            receipts=[receipt[:3] for receipt in receipts],
            now=now,
        )
        update_supplier_performance(
            supplier_id=supplier_id,
            expected_lead_time_days=performance.expected_lead_time_days,
            lead_time_stddev_days=performance.lead_time_stddev_days,
            receipts_count=performance.receipts_count,
        )
        refresh_supplier_rates(today=timezone.localdate(now), supplier_ids=[supplier_id])
        position = next((i for i, r in enumerate(receipts) if r[3] == po_id), None)
        if po_id is not None and position is not None:
            approved_at, received_at, _, _ = receipts[position]
            after = performance
            if position < len(receipts) - 1:  # an earlier receipt: the figures as they were then
                after = supplier_performance(
                    declared_lead_time_days=supplier.lead_time_days,
                    receipts=[receipt[:3] for receipt in receipts[: position + 1]],
                    now=received_at,
                )
            record_lead_time_observation(
                supplier_id=supplier_id,
                po_id=po_id,
                received_at=received_at,
                actual_lead_time_days=lead_time_days(approved_at, received_at),
                expected_lead_time_days=after.expected_lead_time_days,
                lead_time_stddev_days=after.lead_time_stddev_days,
                receipts_count=after.receipts_count,
            )
    return performance


def learn_lead_time(*, supplier_id):
    """Fold the lead time of the supplier's latest first delivery into its figures.

    Call it in the transaction of the receipt that brings a PO its first goods, after the PO is
    saved with ``first_received_at``. Incremental and bounded: the EWMA moves from its stored
    value, the spread reads the last ``SPREAD_SAMPLE`` first deliveries through
    ``idx_po_supplier_first_receipt``; four statements (lock, read, update, the history row). The
    supplier row is locked, so two receipts for one supplier are counted one after the other.
    """
    with transaction.atomic():
        supplier = _lock_supplier(supplier_id)
        latest = list(
            PurchaseOrder.objects.filter(
                supplier_id=supplier_id,
                first_received_at__isnull=False,
                approved_at__isnull=False,
            )
            .order_by("-first_received_at", "-po_id")
            .values_list("approved_at", "first_received_at", "po_id")[:SPREAD_SAMPLE]
        )
        if not latest:
            return
        lead_times = [
            lead_time_days(approved_at, delivered_at) for approved_at, delivered_at, _ in latest
        ]
        count = supplier.receipts_count + 1
        if supplier.receipts_count and supplier.expected_lead_time_days is not None:
            previous = float(supplier.expected_lead_time_days)
        else:
            previous = float(supplier.lead_time_days)
        expected, spread = learned_lead_time(
            previous=previous, latest=lead_times[: min(count, SPREAD_SAMPLE)]
        )
        update_supplier_performance(
            supplier_id=supplier_id,
            expected_lead_time_days=expected,
            lead_time_stddev_days=spread,
            receipts_count=count,
        )
        # The supplier's lead-time history (its admin chart): this delivery and what was learned.
        _, delivered_at, po_id = latest[0]
        record_lead_time_observation(
            supplier_id=supplier_id,
            po_id=po_id,
            received_at=delivered_at,
            actual_lead_time_days=lead_times[0],
            expected_lead_time_days=min(expected, MAX_LEAD_TIME_DAYS),
            lead_time_stddev_days=min(spread, MAX_LEAD_TIME_DAYS),
            receipts_count=count,
        )


def record_po_completion(*, po):
    """Count a PO that has just moved to ``received`` in its supplier's daily totals (on time?
    in full?) and refresh the supplier's 365-day rates: two statements, bounded."""
    record_completed_order(
        supplier_id=po.supplier_id,
        day=timezone.localdate(po.received_at),
        on_time=_on_time(po.received_at, po.expected_delivery_date),
        in_full=po.receipt_status != ReceiptStatus.CLOSED_SHORT,
    )
    refresh_supplier_rates(today=timezone.localdate(po.received_at), supplier_ids=[po.supplier_id])


def _lock_supplier(supplier_id):
    supplier = (
        Supplier.objects.select_for_update()
        .only("supplier_id", "lead_time_days", "expected_lead_time_days", "receipts_count")
        .filter(pk=supplier_id)
        .first()
    )
    if supplier is None:
        raise NotFound(f"No supplier {supplier_id}.", field="supplier_id")
    return supplier


def _on_time(received_at, due):
    """Whether a PO completed at ``received_at`` was on time; ``None`` without a due date."""
    if due is None:
        return None
    return timezone.localdate(received_at) <= due


def expected_lead_time_days(supplier):
    """The lead time, in fractional days, to expect from ``supplier`` for a delivery estimate."""
    lead_time, _ = effective_lead_time(
        declared=supplier.lead_time_days,
        learned=supplier.expected_lead_time_days,
        spread=supplier.lead_time_stddev_days,
        receipts_count=supplier.receipts_count,
    )
    return lead_time


def expected_delivery_date(*, supplier, at):
    """The day of ``at`` (in ``TIME_ZONE``) plus the supplier's expected lead time rounded up to
    whole days: a delivery promised within 7.2 days is expected on day 8, within 7 days on day 7.
    The lead time is capped at ``MAX_LEAD_TIME_DAYS`` (what the database allows a supplier to
    declare), so that no stored figure makes the date overflow; a date past 9999-12-31 is that
    day."""
    days = min(math.ceil(expected_lead_time_days(supplier)), MAX_LEAD_TIME_DAYS)
    try:
        return timezone.localdate(at) + timedelta(days=max(days, 0))
    except OverflowError:
        return date.max
