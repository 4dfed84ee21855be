import uuid

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts.services import revoke_all_api_tokens, revoke_api_tokens
from common.errors import DomainError


class Command(BaseCommand):
    help = (
        "Revoke API tokens by id (see list_api_tokens), or every token of a user with --user. "
        "A revoked token is refused at once (401)."
    )

    def add_arguments(self, parser):
        parser.add_argument("token_ids", nargs="*", type=uuid.UUID, metavar="token_id")
        parser.add_argument("--user", help="Revoke every token of this user.")

    def handle(self, *args, **options):
        if bool(options["token_ids"]) == bool(options["user"]):
            raise CommandError("Give token ids or --user USERNAME (one of the two).")
        try:
            if options["user"]:
                try:
                    user = get_user_model().objects.get_by_natural_key(options["user"])
                except get_user_model().DoesNotExist:
                    raise CommandError(f"No user {options['user']}.") from None
                revoked = revoke_all_api_tokens(user=user)
            else:
                revoked = revoke_api_tokens(token_ids=options["token_ids"])
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Revoked {revoked} API token(s).")
