import uuid

import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.test import Client

from procurement import services
from procurement.models import PurchaseOrder
from procurement.roles import setup_roles
from tests.conftest import ALL_PERMS
from tests.factories import SupplierFactory, UserFactory
from tests.procurement.conftest import walk_to

LOCATION = uuid.UUID("6a1f0c3e-8d2b-4c5a-9e7f-1b2c3d4e5f60")


@pytest.fixture(autouse=True)
def plain_static_storage(settings):
    """With DEBUG off the settings use whitenoise's manifest storage, which needs a prior
    collectstatic; admin pages only need static URLs here."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def messages_of(response):
    """``[(level_tag, text)]`` of the messages the request queued."""
    return [(m.level_tag, m.message) for m in get_messages(response.wsgi_request)]


def admin_client(user):
    # The factory sets the password after saving and does not save again: the session's auth
    # hash must come from the stored one.
    user.refresh_from_db()
    client = Client()
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def roles(db):
    setup_roles()


@pytest.fixture
def staff(roles):
    """``staff("anna", "Approvers")``: a logged-in admin client for a staff member in a role."""

    def make(username, role=None):
        user = UserFactory(username=username, is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return admin_client(user)

    return make


@pytest.fixture
def clerk(staff):
    return staff("clerk", "Procurement clerks")


@pytest.fixture
def approver(staff):
    return staff("approver", "Approvers")


@pytest.fixture
def warehouse(staff):
    return staff("warehouse", "Warehouse staff")


@pytest.fixture
def supplier(db):
    return SupplierFactory(name="Summit Gear", lead_time_days=7)


@pytest.fixture
def operator(db):
    """Holds every permission and created nothing: takes any edge the machine allows."""
    return UserFactory(username="operator", perms=ALL_PERMS)


def line(item_type="tent-2p", quantity=3, unit_price="10.00", location_id=LOCATION):
    return {
        "item_type": item_type,
        "location_id": location_id,
        "quantity": quantity,
        "unit_price": unit_price,
    }


@pytest.fixture
def make_po(supplier, operator):
    """``make_po("submitted", created_by="clerk")``: a PO created through the service, submitted
    by ``submitter`` and walked on to the status by ``operator`` (who did not shape it)."""

    def make(status="draft", created_by="clerk", line_items=None, supplier_id=None, currency="USD"):
        po = services.create_purchase_order(
            supplier_id=supplier_id or supplier.supplier_id,
            line_items=[line()] if line_items is None else line_items,
            created_by=created_by,
            currency=currency,
        )
        walk_to(po.po_id, status, operator=operator)
        return PurchaseOrder.objects.get(pk=po.po_id)

    return make
