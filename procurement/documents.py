"""The purchase order as a supplier receives it: a PDF made with reportlab.

reportlab draws the document from Python (Platypus flowables) with its built-in PDF fonts, so the
service needs no system libraries (no Pango, no font packages) on any machine, `make run`
included, and the text stays real, extractable text.
"""

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils import timezone
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

BUYER = "NovaTrek"
BUYER_CONTACT = "NovaTrek Procurement"


def purchase_order_filename(po):
    return f"novatrek-po-{po.po_id}.pdf"


def _date(value):
    if value is None:
        return "-"
    if hasattr(value, "tzinfo"):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M UTC")
    return value.isoformat()


def purchase_order_pdf(po):
    """The PDF bytes of ``po``, with its supplier and lines (prefetched by the selectors):
    buyer, supplier name and e-mail, PO id, status, dates, every line, total and currency."""
    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["Normal"]
    buffer = BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=18 * mm,
        bottomMargin=18 * mm,
        title=f"Purchase order {po.po_id}",
        author=BUYER,
        subject=f"{BUYER} purchase order for {po.supplier.name}",
    )

    def text(value, style=body):
        return Paragraph(escape(str(value)), style)

    story = [
        Paragraph(f"{BUYER} purchase order", styles["Title"]),
        text(f"Purchase order {po.po_id}", styles["Heading2"]),
        Spacer(1, 4 * mm),
    ]
    parties = Table(
        [
            [text("Buyer", styles["Heading4"]), text("Supplier", styles["Heading4"])],
            [text(BUYER), text(po.supplier.name)],
            [text(BUYER_CONTACT), text(po.supplier.contact_email)],
        ],
        colWidths=[85 * mm, 85 * mm],
    )
    story += [parties, Spacer(1, 4 * mm)]
    facts = [
        ("Status", po.get_status_display()),
        ("Currency", po.currency),
        ("Created", _date(po.created_at)),
        ("Submitted", _date(po.submitted_at)),
        ("Approved", _date(po.approved_at)),
        ("Approved by", po.approved_by or "-"),
        ("Expected delivery", _date(po.expected_delivery_date)),
    ]
    story += [
        Table([[text(name, small), text(value, small)] for name, value in facts]),
        Spacer(1, 6 * mm),
    ]

    rows = [["#", "Item type", "Deliver to location", "Quantity", "Unit price", "Line total"]]
    for number, line in enumerate(po.line_items.all(), start=1):
        rows.append(
            [
                str(number),
                text(line.item_type, small),
                text(str(line.location_id), small),
                str(line.quantity),
                f"{line.unit_price:.2f}",
                f"{line.line_total:.2f}",
            ]
        )
    rows.append(["", "", "", "", "Total", f"{po.total_amount:.2f} {po.currency}"])
    lines = Table(
        rows,
        colWidths=[8 * mm, 38 * mm, 62 * mm, 18 * mm, 20 * mm, 28 * mm],
        repeatRows=1,
    )
    lines.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
                ("FONTNAME", (0, -1), (-1, -1), "Helvetica-Bold"),
                ("FONTSIZE", (0, 0), (-1, -1), 8),
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, colors.black),
                ("LINEABOVE", (0, -1), (-1, -1), 0.5, colors.black),
                ("ALIGN", (3, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [lines, Spacer(1, 6 * mm)]
    story.append(
        text(
            f"Please deliver the goods to the locations above and quote purchase order "
            f"{po.po_id} on every delivery note and invoice. Amounts are in {po.currency}.",
            small,
        )
    )
    document.build(story)
    return buffer.getvalue()
