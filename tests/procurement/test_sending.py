"""The approved PO e-mailed to its supplier by the worker, retried when the mail server fails."""

import logging
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from procurement import services, tasks
from procurement.models import PurchaseOrder
from tests.factories import UserFactory
from tests.procurement.conftest import APPROVER_PERMS, CLERK_PERMS, line, move
from tests.procurement.documents import assert_document_of, pdf_text
from tests.procurement.smtp import free_port, pdf_attachments, smtp_server
from tests.site.databases import database_url

BASE_DIR = Path(__file__).resolve().parents[2]
LARGE = [line("tent-2p", 101, "100.00"), line("stove", 4, "45.50")]


def queued_sends():
    return list(
        DBTaskResult.objects.filter(task_path="procurement.tasks.send_to_supplier").order_by(
            "enqueued_at"
        )
    )


# --- enqueued on commit of the final approval -----------------------------------------------


@pytest.mark.django_db
def test_the_final_approval_enqueues_one_send_on_commit(
    po_in, make_client, django_capture_on_commit_callbacks
):
    po = po_in("submitted", line_items=LARGE)
    approvers = [make_client(f"approver-{n}", perms=APPROVER_PERMS) for n in range(2)]

    with django_capture_on_commit_callbacks(execute=True) as first:
        move(approvers[0], po.po_id, "approved")
    assert first == []
    assert queued_sends() == []

    with django_capture_on_commit_callbacks(execute=True) as second:
        move(approvers[1], po.po_id, "approved")

    assert len(second) == 1
    [queued] = queued_sends()
    assert queued.args_kwargs == {"args": [], "kwargs": {"po_id": str(po.po_id), "attempt": 1}}
    assert queued.status == "READY"


@pytest.mark.django_db
def test_a_refused_approval_enqueues_nothing(po_in, django_capture_on_commit_callbacks):
    po = po_in("submitted")
    creator = UserFactory(username="clerk", perms=APPROVER_PERMS)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(services.PermissionDenied),
    ):
        services.transition_purchase_order(po_id=po.po_id, target_status="approved", user=creator)
    assert callbacks == []
    assert queued_sends() == []


# --- the task ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_task_mails_the_pdf_to_the_supplier_and_records_it(po_in, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    po = po_in("approved", line_items=LARGE)

    assert tasks.send_to_supplier.call(po_id=str(po.po_id)) == "sent"

    [message] = mail.outbox
    assert message.to == [po.supplier.contact_email]
    assert str(po.po_id) in message.subject
    [(filename, content, mimetype)] = message.attachments
    assert (filename, mimetype) == (f"novatrek-po-{po.po_id}.pdf", "application/pdf")
    stored = PurchaseOrder.objects.get(pk=po.po_id)
    assert_document_of(pdf_text(content), stored)
    assert stored.sent_to_supplier_at is not None
    assert stored.version == po.version + 1


@pytest.mark.django_db
def test_a_po_cancelled_before_the_worker_ran_is_not_sent(po_in, operator, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    po = po_in("approved")
    services.transition_purchase_order(po_id=po.po_id, target_status="cancelled", user=operator)

    assert tasks.send_to_supplier.call(po_id=str(po.po_id)) == "not_sendable"
    assert mail.outbox == []
    assert PurchaseOrder.objects.get(pk=po.po_id).sent_to_supplier_at is None


@pytest.mark.django_db
def test_a_failed_send_is_logged_and_retried_after_the_next_delay(po_in, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.SUPPLIER_EMAIL_RETRY_DELAYS = [5, 300]
    po = po_in("approved")
    before = timezone.now()

    with caplog.at_level(logging.WARNING, logger="procurement.tasks"), pytest.raises(OSError):
        tasks.send_to_supplier.call(po_id=str(po.po_id), attempt=2)

    [retry] = queued_sends()
    assert retry.args_kwargs["kwargs"] == {"po_id": str(po.po_id), "attempt": 3}
    assert (
        before + timedelta(seconds=299) < retry.run_after < timezone.now() + timedelta(seconds=301)
    )
    [record] = caplog.records
    assert (record.levelname, record.attempt, record.retry_in_seconds) == ("WARNING", 2, 300)
    assert PurchaseOrder.objects.get(pk=po.po_id).sent_to_supplier_at is None


@pytest.mark.django_db
def test_after_the_last_delay_the_send_is_given_up_and_logged(po_in, settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.SUPPLIER_EMAIL_RETRY_DELAYS = [5, 300]
    po = po_in("approved")

    with caplog.at_level(logging.WARNING, logger="procurement.tasks"), pytest.raises(OSError):
        tasks.send_to_supplier.call(po_id=str(po.po_id), attempt=3)

    assert queued_sends() == []
    [record] = caplog.records
    assert record.levelname == "ERROR"
    assert "giving up" in record.getMessage()


def test_the_default_retry_delays_are_the_webhooks():
    assert settings.SUPPLIER_EMAIL_RETRY_DELAYS == [5, 300, 1800, 7200, 18000, 36000]


# --- "Send to supplier again" --------------------------------------------------------------


@pytest.mark.django_db
def test_sending_again_enqueues_a_send_of_an_approved_po(
    po_in, operator, django_capture_on_commit_callbacks
):
    po = po_in("shipped")
    DBTaskResult.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.resend_purchase_order_to_supplier(po_id=po.po_id, user=operator)
    [queued] = queued_sends()
    assert queued.args_kwargs["kwargs"]["po_id"] == str(po.po_id)


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["draft", "submitted", "cancelled", "rejected"])
def test_only_an_approved_or_later_po_is_sent(po_in, operator, status):
    po = po_in(status)
    with pytest.raises(services.Conflict) as refused:
        services.resend_purchase_order_to_supplier(po_id=po.po_id, user=operator)
    assert refused.value.code == "not_sendable"


@pytest.mark.django_db
def test_sending_again_needs_the_change_permission(po_in):
    po = po_in("approved")
    with pytest.raises(services.PermissionDenied):
        services.resend_purchase_order_to_supplier(
            po_id=po.po_id, user=UserFactory(username="nobody")
        )


# --- a real worker and a real SMTP server ----------------------------------------------------


def start_worker(smtp_port, log_path):
    """``manage.py db_worker`` on the test database, mailing through the test's SMTP server."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(settings.DATABASES["default"]),
        "DB_POOL": "0",
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "test-only-secret-key",
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SUPPLIER_EMAIL_RETRY_DELAYS": "1,1,1",
    }
    log = open(log_path, "w")  # noqa: SIM115 (closed by stop_worker)
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "db_worker",
            "--interval",
            "0.2",
            "--no-startup-delay",
            "--no-reload",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    process.log = log
    return process


def stop_worker(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)
    process.log.close()


def approve_twice(po_id):
    for name in ("approver-1", "approver-2"):
        services.transition_purchase_order(
            po_id=po_id,
            target_status="approved",
            user=UserFactory(username=name, perms=APPROVER_PERMS),
        )


def submitted_large_po(supplier):
    po = services.create_purchase_order(
        supplier_id=supplier.pk, line_items=LARGE, created_by="clerk"
    )
    services.transition_purchase_order(
        po_id=po.po_id,
        target_status="submitted",
        user=UserFactory(username="submitter", perms=CLERK_PERMS),
    )
    return po


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_worker_mails_the_approved_po_through_a_real_smtp_server(supplier, tmp_path):
    po = submitted_large_po(supplier)
    with smtp_server() as (server, port):
        worker = start_worker(port, tmp_path / "worker.log")
        try:
            approve_twice(po.po_id)
            [(recipients, message)] = server.wait_for_messages(1)
        finally:
            stop_worker(worker)

    assert recipients == [supplier.contact_email]
    assert message["To"] == supplier.contact_email
    assert str(po.po_id) in message["Subject"]
    [attachment] = pdf_attachments(message)
    stored = PurchaseOrder.objects.get(pk=po.po_id)
    assert_document_of(pdf_text(attachment), stored)
    assert stored.status == "approved"
    assert stored.sent_to_supplier_at is not None
    assert "sent to its supplier (attempt 1)" in (tmp_path / "worker.log").read_text()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_failing_smtp_server_then_the_retry_delivers(supplier, tmp_path):
    po = submitted_large_po(supplier)
    with smtp_server(fail_first=2) as (server, port):
        worker = start_worker(port, tmp_path / "worker.log")
        try:
            approve_twice(po.po_id)
            # The approval did not wait for the mail server: it is committed already.
            assert PurchaseOrder.objects.get(pk=po.po_id).status == "approved"
            [(_, message)] = server.wait_for_messages(1)
        finally:
            stop_worker(worker)

    assert server.attempts == 3
    [attachment] = pdf_attachments(message)
    assert str(po.po_id) in pdf_text(attachment)
    assert PurchaseOrder.objects.get(pk=po.po_id).sent_to_supplier_at is not None
    log = (tmp_path / "worker.log").read_text()
    assert "failed (attempt 1)" in log and "failed (attempt 2)" in log
    assert "sent to its supplier (attempt 3)" in log
