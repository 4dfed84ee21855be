from suppliers.models import Supplier


def list_suppliers():
    return Supplier.objects.all()
