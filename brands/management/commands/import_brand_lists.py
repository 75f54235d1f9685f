from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from brands import imports
from brands.models import Brand


class Command(BaseCommand):
    help = "Import a brand's ASIN or campaign list from a CSV/TSV file (all lines or none)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="E-mail of the brand's owner.")
        parser.add_argument("--brand", required=True, help="Brand name; created if missing.")
        parser.add_argument("--kind", choices=["asins", "campaigns"], help="Guessed from the header if omitted.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"{path}: no such file.")
        user = User.objects.filter(email__iexact=options["user"]).first()
        if user is None:
            raise CommandError(f"No user with e-mail {options['user']}.")
        try:
            parsed = imports.parse(imports.decode(path.read_bytes()), filename=str(path), kind=options["kind"],
                                   user=user)  # fmt: skip
        except imports.ImportFileError as exc:
            raise CommandError(str(exc)) from None
        if not parsed.ok:
            for error in parsed.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(parsed.errors)} bad line(s); nothing was imported.")
        brand, _ = Brand.objects.get_or_create(owner=user, name=options["brand"])
        self.stdout.write(f"{brand.name}: {imports.apply(brand, parsed).summary()}")
