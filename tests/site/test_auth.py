"""The authentication backend: Django's ModelBackend with the permissions in one query."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import AnonymousUser, Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from procurement_site.auth import SingleQueryModelBackend
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def perm(name):
    app, codename = name.split(".")
    return Permission.objects.get(content_type__app_label=app, codename=codename)


def fresh(user):
    """The user as a request loads it: no permission cache."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def user():
    user = UserFactory()
    user.user_permissions.add(perm("stock.add_stockadjustment"), perm("suppliers.add_supplier"))
    clerks, buyers = Group.objects.create(name="clerks"), Group.objects.create(name="buyers")
    clerks.permissions.add(perm("stock.add_stockadjustment"), perm("stock.change_stocklevel"))
    buyers.permissions.add(perm("procurement.add_purchaseorder"))
    user.groups.add(clerks, buyers)
    Group.objects.create(name="others").permissions.add(perm("procurement.approve_purchaseorder"))
    return user


def test_the_settings_use_it():
    from django.conf import settings

    assert settings.AUTHENTICATION_BACKENDS == [
        "axes.backends.AxesStandaloneBackend",
        "procurement_site.auth.SingleQueryModelBackend",
    ]


def test_own_and_group_permissions_in_one_query_then_cached(user):
    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        perms = SingleQueryModelBackend().get_all_permissions(user)
    assert perms == {
        "stock.add_stockadjustment",
        "suppliers.add_supplier",
        "stock.change_stocklevel",
        "procurement.add_purchaseorder",
    }
    assert len(queries) == 1
    assert user.get_all_permissions() == perms
    with CaptureQueriesContext(connection) as again:
        assert user.has_perm("stock.change_stocklevel")
        assert not user.has_perm("procurement.approve_purchaseorder")
        assert user.has_module_perms("procurement")
        assert not user.has_module_perms("auth")
    assert len(again) == 0


def test_the_same_as_djangos_backend(user):
    other = UserFactory()
    other.groups.add(Group.objects.get(name="others"))
    for someone in (user, other, UserFactory(), UserFactory(is_superuser=True)):
        ours = SingleQueryModelBackend().get_all_permissions(fresh(someone))
        assert ours == ModelBackend().get_all_permissions(fresh(someone))


def test_a_superuser_has_every_permission_in_one_query():
    admin = fresh(UserFactory(is_superuser=True))
    with CaptureQueriesContext(connection) as queries:
        perms = SingleQueryModelBackend().get_all_permissions(admin)
    assert len(queries) == 1
    assert len(perms) == Permission.objects.count()
    assert "procurement.approve_purchaseorder" in perms


def test_inactive_anonymous_and_objects_have_none(user):
    backend = SingleQueryModelBackend()
    inactive = fresh(user)
    inactive.is_active = False
    active = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert backend.get_all_permissions(inactive) == set()
        assert not backend.has_perm(inactive, "stock.add_stockadjustment")
        assert backend.get_all_permissions(AnonymousUser()) == set()
        assert backend.get_all_permissions(active, obj=user) == set()
    assert len(queries) == 0
    assert not fresh(user).has_perm("stock.add_stockadjustment", obj=user)


def test_an_api_write_loads_permissions_once(make_client):
    client = make_client("clerk", ["stock.add_stockadjustment"])
    with CaptureQueriesContext(connection) as queries:
        response = client.post("/stock-adjustments", {}, format="json")
    assert response.status_code == 400
    assert sum("auth_permission" in q["sql"] for q in queries.captured_queries) == 1
