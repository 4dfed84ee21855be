"""The staff roles of the service, as Django groups with exactly the permissions each needs."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

ROLE_PERMISSIONS = {
    "Procurement clerks": [
        "suppliers.view_supplier",
        "suppliers.add_supplier",
        "suppliers.change_supplier",
        "suppliers.view_supplieritem",
        "suppliers.add_supplieritem",
        "suppliers.change_supplieritem",
        "procurement.view_purchaseorder",
        "procurement.add_purchaseorder",
        "procurement.change_purchaseorder",
        "procurement.view_polineitem",
        "procurement.add_polineitem",
        "procurement.change_polineitem",
        "procurement.delete_polineitem",
        "procurement.view_postatuschange",
        "procurement.view_poedit",
        "procurement.view_receipt",
        "procurement.view_poapproval",
        "stock.view_stocklevel",
        "stock.view_stockadjustment",
        "stock.view_reorderalert",
    ],
    "Approvers": [
        "suppliers.view_supplier",
        "suppliers.view_supplieritem",
        "procurement.view_purchaseorder",
        "procurement.change_purchaseorder",
        "procurement.approve_purchaseorder",
        "procurement.view_polineitem",
        "procurement.view_postatuschange",
        "procurement.view_poedit",
        "procurement.view_receipt",
        "procurement.view_poapproval",
        "stock.view_stocklevel",
        "stock.view_reorderalert",
    ],
    "Warehouse staff": [
        "suppliers.view_supplier",
        "suppliers.view_supplieritem",
        "procurement.view_purchaseorder",
        "procurement.change_purchaseorder",
        "procurement.view_polineitem",
        "procurement.view_postatuschange",
        "procurement.view_poedit",
        "procurement.view_receipt",
        "procurement.view_poapproval",
        "stock.view_stocklevel",
        "stock.change_stocklevel",
        "stock.view_stockadjustment",
        "stock.add_stockadjustment",
        "stock.view_reorderalert",
    ],
}


def setup_roles():
    """Create or update the groups so that each holds exactly its permissions. Idempotent.

    Returns ``{group name: "created" | "updated" | "unchanged"}``.
    """
    wanted = {name for names in ROLE_PERMISSIONS.values() for name in names}
    condition = Q(pk__in=[])
    for name in wanted:
        app_label, codename = name.split(".")
        condition |= Q(content_type__app_label=app_label, codename=codename)
    found = {
        f"{app_label}.{codename}": pk
        for pk, app_label, codename in Permission.objects.filter(condition).values_list(
            "pk", "content_type__app_label", "codename"
        )
    }
    missing = wanted - set(found)
    if missing:
        raise LookupError(f"Permissions not found (run migrate first): {sorted(missing)}")

    outcome = {}
    with transaction.atomic():
        for group_name, names in ROLE_PERMISSIONS.items():
            group, created = Group.objects.get_or_create(name=group_name)
            target = {found[name] for name in names}
            current = set(group.permissions.values_list("pk", flat=True))
            if current != target:
                group.permissions.set(target)
            outcome[group_name] = (
                "created" if created else ("updated" if current != target else "unchanged")
            )
    return outcome
