import pytest


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """The factories set a password on every user; the production hasher takes most of a second
    on a shared machine, for nothing these tests look at."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
