from django.core.management.base import BaseCommand, CommandError

from accounts.amazon import AmazonConnectionError
from accounts.models import User
from instances.services import sync_instances
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
        except (AmazonConnectionError, AMCError) as exc:
            raise CommandError(f"sync failed: {exc}") from None
        self.stdout.write(report.summary())
