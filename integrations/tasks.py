"""Background work, on Django's Tasks API (``django_tasks``: on Django 6 the import becomes
``django.tasks``) and the database backend: ``python manage.py db_worker`` runs them."""

import logging

from django_tasks import task

from integrations import events, idempotency, webhooks

logger = logging.getLogger(__name__)


@task()
def publish_events():
    """Number the committed events and create their webhook deliveries (enqueued on the commit of
    every change that writes events)."""
    return events.publish_pending_events()


@task()
def deliver_webhook(delivery_id):
    """Send one attempt of a delivery (a no-op if it is not due or another worker sends it)."""
    attempt = webhooks.deliver(delivery_id)
    return None if attempt is None else attempt.number


@task()
def integration_maintenance():
    """The periodic sweep (``manage.py enqueue_integration_maintenance``, run by a scheduler):
    purge expired idempotency keys, number events whose publish task was lost, re-enqueue
    deliveries whose task was lost or whose sender died."""
    purged = idempotency.purge_expired_keys()
    published = events.publish_pending_events()
    due = [str(pk) for pk in webhooks.due_deliveries()]
    for delivery_id in due:
        deliver_webhook.enqueue(delivery_id)
    summary = {
        "keys_purged": purged,
        "events_published": published,
        "deliveries_requeued": len(due),
    }
    logger.info("integration maintenance", extra=summary)
    return summary
