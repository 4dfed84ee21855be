"""API tokens in the admin: staff see and revoke their own, a superuser everyone's; no key
is ever shown, nothing is edited or deleted."""

from accounts.models import ApiToken
from tests.admin.conftest import admin_client, messages_of
from tests.factories import ApiTokenFactory, UserFactory

CHANGELIST = "/admin/accounts/apitoken/"


def test_a_staff_member_lists_only_their_own_tokens_without_keys(staff):
    client = staff("anna", "Procurement clerks")
    mine = ApiTokenFactory(user=client.user, name="anna laptop")
    theirs = ApiTokenFactory(user=UserFactory(username="bob"), name="bob laptop")

    response = client.get(CHANGELIST)

    assert response.status_code == 200
    page = response.content.decode()
    assert "anna laptop" in page and f"{mine.key[:8]}…" in page
    assert "bob laptop" not in page
    assert mine.key not in page and mine.key_hash not in page
    assert client.get(f"{CHANGELIST}{mine.pk}/change/").status_code == 200
    assert client.get(f"{CHANGELIST}{theirs.pk}/change/").status_code in (302, 403, 404)
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{mine.pk}/delete/").status_code == 403


def test_a_staff_member_revokes_their_own_tokens(staff):
    client = staff("anna", "Approvers")
    mine = ApiTokenFactory(user=client.user)

    response = client.post(
        CHANGELIST, {"action": "revoke", "_selected_action": [str(mine.pk)]}, follow=True
    )

    assert ("success", "Revoked 1 API token(s).") in messages_of(response)
    assert ApiToken.objects.get(pk=mine.pk).revoked_at is not None


def test_a_staff_member_cannot_revoke_someone_elses_token(staff):
    client = staff("anna", "Approvers")
    theirs = ApiTokenFactory(user=UserFactory(username="bob"))

    client.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(theirs.pk)]})

    assert ApiToken.objects.get(pk=theirs.pk).revoked_at is None


def test_a_superuser_sees_and_revokes_everyones(db):
    client = admin_client(UserFactory(username="root", is_staff=True, is_superuser=True))
    tokens = [ApiTokenFactory(user=UserFactory(username=name), name=name) for name in "xyz"]

    page = client.get(CHANGELIST).content.decode()
    assert all(f"{token.key[:8]}…" in page for token in tokens)

    response = client.post(
        CHANGELIST,
        {"action": "revoke", "_selected_action": [str(t.pk) for t in tokens]},
        follow=True,
    )

    assert ("success", "Revoked 3 API token(s).") in messages_of(response)
    assert not ApiToken.objects.filter(revoked_at__isnull=True).exists()


def test_a_user_who_is_not_staff_sees_nothing(db):
    client = admin_client(UserFactory(username="plain"))
    assert client.get(CHANGELIST).status_code == 302  # to the login page
