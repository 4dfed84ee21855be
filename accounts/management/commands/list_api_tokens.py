from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.models import ApiToken


def _when(value):
    return f"{value:%Y-%m-%dT%H:%M:%SZ}" if value else "-"


class Command(BaseCommand):
    help = "List API tokens (never their keys): a user's, or everyone's."

    def add_arguments(self, parser):
        parser.add_argument("username", nargs="?", help="Only this user's tokens.")

    def handle(self, *args, **options):
        tokens = ApiToken.objects.select_related("user").order_by("user__username", "-created_at")
        if options["username"]:
            users = get_user_model().objects.filter(username=options["username"])
            if not users.exists():
                raise CommandError(f"No user {options['username']}.")
            tokens = tokens.filter(user__in=users)
        self.stdout.write("token_id\tuser\tname\tkey\tstate\tcreated\texpires\trevoked")
        for token in tokens:
            self.stdout.write(
                "\t".join(
                    [
                        str(token.token_id),
                        token.user.get_username(),
                        token.name,
                        f"{token.key_prefix}…",
                        token.state,
                        _when(token.created_at),
                        _when(token.expires_at),
                        _when(token.revoked_at),
                    ]
                )
            )
