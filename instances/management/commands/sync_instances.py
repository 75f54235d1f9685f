from django.core.management.base import BaseCommand, CommandError

from accounts.amazon import AmazonConnectionError
from accounts.models import User
from instances.services import SyncError, sync_instances
from recomamp.amc.errors import AMCError


class Command(BaseCommand):
    help = "List the AMC accounts and instances a user's Amazon connection reaches and store them."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, metavar="EMAIL")

    def handle(self, user, **options):
        try:
            owner = User.objects.get(email__iexact=user)
        except User.DoesNotExist:
            raise CommandError(f"no user with e-mail {user}") from None
        try:
            report = sync_instances(owner)
        except SyncError as exc:
            for failure in exc.report.failures:
                self.stderr.write(f"could not read {failure}")
            raise CommandError("sync failed: nothing could be read from AMC") from None
        except (AmazonConnectionError, AMCError) as exc:
            raise CommandError(f"sync failed: {exc}") from None
        self.stdout.write(report.summary())
        # Partial success exits 0: what could be read is stored; each refusal is named with AMC's reason.
        for failure in report.failures:
            self.stderr.write(f"could not read {failure}")
