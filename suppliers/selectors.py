from suppliers.models import Supplier, SupplierItem


def list_suppliers():
    return Supplier.objects.all()


def list_supplier_items():
    """The catalog, with each entry's supplier (one join)."""
    return SupplierItem.objects.select_related("supplier")
