"""GET /purchase-orders/{po_id}/document: the PO as its supplier receives it, a real PDF."""

import uuid

import pytest

from procurement.models import PurchaseOrder
from tests.procurement.conftest import line
from tests.procurement.documents import assert_document_of, pdf_text

pytestmark = pytest.mark.django_db


def test_the_document_is_a_pdf_with_the_po_in_extractable_text(po_in, reader_client):
    po = po_in(
        "approved",
        line_items=[line("tent-2p", 12, "149.99"), line("sleeping-bag", 20, "89.50")],
    )

    response = reader_client.get(f"/purchase-orders/{po.po_id}/document")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="novatrek-po-{po.po_id}.pdf"'
    text = pdf_text(response.content)
    assert_document_of(text, PurchaseOrder.objects.get(pk=po.po_id))
    assert "3589.88 USD" in " ".join(text.split())


def test_a_client_may_ask_for_pdf(po_in, reader_client):
    po = po_in("draft")
    response = reader_client.get(
        f"/purchase-orders/{po.po_id}/document", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


@pytest.mark.parametrize("po_id", ["not-a-uuid", str(uuid.uuid4())])
def test_unknown_po_is_a_json_404_even_when_asking_for_pdf(reader_client, po_id):
    response = reader_client.get(
        f"/purchase-orders/{po_id}/document", HTTP_ACCEPT="application/pdf"
    )
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_the_document_needs_a_login(po_in, anon_client):
    po = po_in("draft")
    response = anon_client.get(f"/purchase-orders/{po.po_id}/document")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_unacceptable_accept_is_a_json_406(po_in, reader_client):
    po = po_in("draft")
    response = reader_client.get(f"/purchase-orders/{po.po_id}/document", HTTP_ACCEPT="text/csv")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"


def test_a_po_with_many_lines_spans_pages(po_in, reader_client):
    po = po_in("submitted", lines=120)
    response = reader_client.get(f"/purchase-orders/{po.po_id}/document")
    text = pdf_text(response.content)
    assert "item-0" in text and "item-119" in text
