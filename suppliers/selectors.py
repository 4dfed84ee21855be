from suppliers.models import LeadTimeObservation, Supplier, SupplierItem


def list_suppliers():
    return Supplier.objects.all()


def lead_time_history(*, supplier_id):
    """The supplier's lead-time history, oldest first, in one query: (received_at, actual,
    learned after it, receipts counted)."""
    return list(
        LeadTimeObservation.objects.filter(supplier_id=supplier_id)
        .order_by("received_at", "observation_id")
        .values_list(
            "received_at", "actual_lead_time_days", "expected_lead_time_days", "receipts_count"
        )
    )


def list_supplier_items():
    """The catalog, with each entry's supplier (one join)."""
    return SupplierItem.objects.select_related("supplier")
