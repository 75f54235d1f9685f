"""Run the web server and a django-q2 worker together (development and demos).

Production runs gunicorn and `manage.py qcluster` as separate services; see docs/operations.md.
"""

import socket
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from recomamp import child_processes


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


class Command(BaseCommand):
    help = "Start the web server and a background worker; Ctrl-C stops both."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="Number of qcluster processes.")

    def handle(self, host, port, workers, **options):
        if not port_is_free(host, port):
            raise CommandError(
                f"port {port} on {host} is already in use: stop the other server or choose another port "
                f"(make run PORT={port + 1})"
            )
        python = sys.executable
        child_processes.stop_on_termination_signals()  # `kill PID`, a supervisor or `timeout` stop it cleanly too
        processes = [child_processes.start([python, "manage.py", "qcluster"]) for _ in range(workers)]
        processes.append(child_processes.start([python, "manage.py", "runserver", f"{host}:{port}", "--noreload"]))
        self.stdout.write(self.style.SUCCESS(f"RecomAMP is running at http://{host}:{port}/  (Ctrl-C to stop)"))
        try:
            while all(p.poll() is None for p in processes):
                time.sleep(0.5)
            failed = [p for p in processes if p.poll() not in (None, 0)]
            if failed:
                raise CommandError("a server process stopped unexpectedly; see the output above")
        except (KeyboardInterrupt, child_processes.Stop):
            pass
        finally:
            child_processes.stop_all(processes)
