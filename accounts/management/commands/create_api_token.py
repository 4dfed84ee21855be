from django.core.management.base import BaseCommand, CommandError

from accounts.services import create_api_token_for_username
from common.errors import DomainError


class Command(BaseCommand):
    help = (
        "Issue a new API token for a user and print its key once, on the last line "
        "(only its hash is stored: it cannot be shown again). Use it as "
        "'Authorization: Token <key>'."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="api", help="What the token is for; default 'api'.")
        parser.add_argument(
            "--expires-in-days",
            type=int,
            default=None,
            help="Days until the token stops working; default: never.",
        )

    def handle(self, *args, **options):
        try:
            token, key = create_api_token_for_username(
                username=options["username"],
                name=options["name"],
                expires_in_days=options["expires_in_days"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        expiry = (
            f"expires {token.expires_at:%Y-%m-%dT%H:%M:%SZ}" if token.expires_at else "no expiry"
        )
        self.stderr.write(
            f"API token {token.token_id} '{token.name}' for {token.user.get_username()} "
            f"({expiry}). The key, shown this once:",
            style_func=str,
        )
        self.stdout.write(key)
