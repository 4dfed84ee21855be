import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from procurement.roles import ROLE_PERMISSIONS
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _perms(group_name):
    return {
        f"{app}.{codename}"
        for app, codename in Group.objects.get(name=group_name).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_setup_roles_creates_the_three_groups_with_their_permissions(capsys):
    call_command("setup_roles")

    assert set(Group.objects.values_list("name", flat=True)) == set(ROLE_PERMISSIONS)
    for name, perms in ROLE_PERMISSIONS.items():
        assert _perms(name) == set(perms)
    assert "Approvers: created" in capsys.readouterr().out
    assert "procurement.approve_purchaseorder" in _perms("Approvers")
    assert "procurement.approve_purchaseorder" not in _perms("Procurement clerks")
    assert "stock.add_stockadjustment" in _perms("Warehouse staff")


def test_setup_roles_twice_changes_nothing(capsys):
    call_command("setup_roles")
    before = {name: _perms(name) for name in ROLE_PERMISSIONS}
    capsys.readouterr()

    call_command("setup_roles")

    assert {name: _perms(name) for name in ROLE_PERMISSIONS} == before
    assert Group.objects.count() == 3
    out = capsys.readouterr().out
    assert out.count("unchanged") == 3


def test_setup_roles_repairs_a_group_changed_by_hand():
    call_command("setup_roles")
    approvers = Group.objects.get(name="Approvers")
    approvers.permissions.clear()

    call_command("setup_roles")

    assert _perms("Approvers") == set(ROLE_PERMISSIONS["Approvers"])


def test_a_member_gets_the_role_permissions():
    call_command("setup_roles")
    user = UserFactory(username="anna")
    user.groups.add(Group.objects.get(name="Approvers"))
    assert user.has_perm("procurement.approve_purchaseorder")
    assert not user.has_perm("stock.add_stockadjustment")
