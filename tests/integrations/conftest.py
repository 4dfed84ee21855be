import pytest

from integrations.models import Event
from tests.factories import UserFactory

INTEGRATION_PERMS = ["integrations.view_event", "integrations.manage_webhooks"]


@pytest.fixture
def integrator(make_client):
    """Reads the event feed and manages webhooks."""
    return make_client("integrator", perms=INTEGRATION_PERMS)


@pytest.fixture
def superuser(db):
    return UserFactory(username="root", is_superuser=True, is_staff=True)


def events_of(type_prefix=""):
    """The events written so far (numbered or not), in the order they were written."""
    return list(Event.objects.filter(type__startswith=type_prefix).order_by("id"))
