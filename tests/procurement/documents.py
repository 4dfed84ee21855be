"""Reading the PO document back as a supplier's software would: its text."""

from io import BytesIO

from pypdf import PdfReader


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-"), data[:20]
    reader = PdfReader(BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_document_of(text, po):
    """The document names NovaTrek, the supplier (name, e-mail), the PO id, every line (item,
    quantity, unit price, line total), the total and the currency."""
    squashed = " ".join(text.split())
    assert "NovaTrek" in squashed
    assert str(po.po_id) in squashed
    assert po.supplier.name in squashed
    assert po.supplier.contact_email in squashed
    for item in po.line_items.all():
        assert item.item_type in squashed
        assert f"{item.unit_price:.2f}" in squashed
        assert f"{item.line_total:.2f}" in squashed
    assert f"{po.total_amount:.2f} {po.currency}" in squashed
