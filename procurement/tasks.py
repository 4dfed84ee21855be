"""Background work of purchase orders, run by the worker (`manage.py db_worker`): the approved
PO e-mailed to its supplier, retried after ``SUPPLIER_EMAIL_RETRY_DELAYS``."""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_tasks import task

from procurement import services

logger = logging.getLogger(__name__)


def enqueue_send_to_supplier(*, po_id, attempt=1, delay_seconds=0):
    """Queue the e-mail of the PO to its supplier: attempt ``attempt``, not before
    ``delay_seconds`` from now."""
    queued = send_to_supplier
    if delay_seconds:
        queued = queued.using(run_after=timezone.now() + timedelta(seconds=delay_seconds))
    return queued.enqueue(po_id=str(po_id), attempt=attempt)


@task()
def send_to_supplier(po_id, attempt=1):
    """Send the PO (attempt ``attempt``); on failure, log it and queue the next attempt after
    the next delay of ``SUPPLIER_EMAIL_RETRY_DELAYS`` (none left: logged as given up), then
    re-raise so that the task result records the failure. Every attempt is logged."""
    delays = settings.SUPPLIER_EMAIL_RETRY_DELAYS
    try:
        sent = services.send_purchase_order_to_supplier(po_id=po_id)
    except Exception as error:
        if attempt <= len(delays):
            delay = delays[attempt - 1]
            logger.warning(
                "Sending purchase order %s to its supplier failed (attempt %s): %s; "
                "retrying in %s s",
                po_id,
                attempt,
                error,
                delay,
                extra={"po_id": po_id, "attempt": attempt, "retry_in_seconds": delay},
            )
            enqueue_send_to_supplier(po_id=po_id, attempt=attempt + 1, delay_seconds=delay)
        else:
            logger.error(
                "Sending purchase order %s to its supplier failed (attempt %s): %s; giving up",
                po_id,
                attempt,
                error,
                extra={"po_id": po_id, "attempt": attempt},
            )
        raise
    if sent:
        logger.info(
            "Purchase order %s sent to its supplier (attempt %s)",
            po_id,
            attempt,
            extra={"po_id": po_id, "attempt": attempt},
        )
    else:
        logger.info(
            "Purchase order %s not sent: it is no longer approved",
            po_id,
            extra={"po_id": po_id, "attempt": attempt},
        )
    return "sent" if sent else "not_sendable"
