from suppliers.models import Supplier


def register_supplier(*, name, contact_email, lead_time_days, rating=None, active=True):
    """Register a supplier. Its performance figures start empty and are learned from receipts."""
    return Supplier.objects.create(
        name=name,
        contact_email=contact_email,
        lead_time_days=lead_time_days,
        rating=rating,
        active=active,
    )
