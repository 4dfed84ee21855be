from django.core.management.base import BaseCommand, CommandError

from procurement.roles import setup_roles


class Command(BaseCommand):
    help = (
        'Create the groups "Procurement clerks", "Approvers" and "Warehouse staff" with the '
        "permissions each needs. Running it again changes nothing."
    )

    def handle(self, *args, **options):
        try:
            outcome = setup_roles()
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        for group, result in outcome.items():
            self.stdout.write(f"{group}: {result}")
