from django.core.management.base import BaseCommand

from integrations.tasks import integration_maintenance


class Command(BaseCommand):
    help = (
        "Enqueue the integration maintenance task for the worker: purge expired idempotency "
        "keys, publish events and deliveries whose task was lost. Run it from a scheduler (cron, "
        "a Kubernetes CronJob) every few minutes."
    )

    def handle(self, *args, **options):
        result = integration_maintenance.enqueue()
        self.stdout.write(f"Enqueued integration maintenance (task {result.id}).")
