"""The admin sign-in locks out after repeated failures (django-axes): AXES_FAILURE_LIMIT failed
attempts for one username from one address, then even the right password is refused, with a
page that says why, for the cool-off."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, RequestFactory
from django.utils import timezone

from procurement_site.auth import client_ip
from tests.factories import UserFactory

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "the-right-horse-battery"


@pytest.fixture
def anna(db):
    user = UserFactory(username="anna", is_staff=True)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, password, username="anna"):
    return client.post(LOGIN, {"username": username, "password": password})


def signed_in(client):
    return client.get("/admin/").status_code == 200


def fail(client, times, username="anna"):
    """``times`` failed sign-ins: the form again each time, and the lockout page for the one that
    reaches the limit."""
    for attempt in range(1, times + 1):
        response = sign_in(client, "wrong", username)
        if attempt < settings.AXES_FAILURE_LIMIT:
            assert response.status_code == 200
            assert "correct username and password" in response.content.decode()
        else:
            assert response.status_code == 429


def test_the_settings_lock_by_username_and_address_with_a_cool_off():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
    assert timedelta(minutes=15) == settings.AXES_COOLOFF_TIME
    assert settings.AXES_RESET_ON_SUCCESS is True


def test_after_the_limit_even_the_right_password_is_refused(anna):
    client = Client()
    fail(client, 5)

    response = sign_in(client, PASSWORD)

    assert response.status_code == 429
    page = response.content.decode()
    assert "Too many failed sign-ins for <strong>anna</strong>" in page
    assert "for 15 minutes after the last attempt" in page
    assert "axes_reset_username anna" in page
    assert not signed_in(client)
    assert AccessAttempt.objects.get(username="anna").failures_since_start >= 5


def test_four_failures_do_not_lock_and_a_success_clears_them(anna):
    client = Client()
    fail(client, 4)
    assert sign_in(client, PASSWORD).status_code == 302
    assert signed_in(client)
    assert not AccessAttempt.objects.filter(username="anna").exists()

    other = Client()
    fail(other, 4)
    assert sign_in(other, PASSWORD).status_code == 302


def test_the_lockout_is_for_that_username_from_that_address(anna):
    fail(Client(REMOTE_ADDR="203.0.113.7"), 5)

    assert sign_in(Client(REMOTE_ADDR="203.0.113.7"), PASSWORD).status_code == 429
    elsewhere = Client(REMOTE_ADDR="198.51.100.4")
    assert sign_in(elsewhere, PASSWORD).status_code == 302
    assert signed_in(elsewhere)


def test_the_lockout_ends_after_the_cool_off(anna):
    client = Client()
    fail(client, 5)
    assert sign_in(client, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))

    assert sign_in(client, PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_reset_command_lifts_a_lockout(anna):
    from django.core.management import call_command

    client = Client()
    fail(client, 5)
    call_command("axes_reset_username", "anna", stdout=__import__("io").StringIO())

    assert sign_in(client, PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "", "10.0.0.1"),
        (0, "203.0.113.7", "10.0.0.1"),  # no trusted proxy: a client-sent header is ignored
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client's own entry is ignored
        (2, "6.6.6.6, 203.0.113.7, 10.1.1.1", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.1"),  # fewer entries than proxies: the peer
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().post(LOGIN, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
