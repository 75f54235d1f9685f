"""Startup configuration: one clear line for bad input, secrets kept in development, production strictness."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from recomamp.bootstrap import ConfigError, check_database_url, load_or_create_local_secrets, parse_fernet_keys

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, env_overrides: dict, timeout=60):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_local_secrets_are_created_once_and_reused(tmp_path):
    path = tmp_path / "secrets.json"
    first = load_or_create_local_secrets(path)
    second = load_or_create_local_secrets(path)
    assert first == second
    assert json.loads(path.read_text())["SECRET_KEY"] == first["SECRET_KEY"]
    parse_fernet_keys(first["FERNET_KEYS"])
    assert oct(path.stat().st_mode)[-3:] == "600"


def test_fernet_keys_are_validated_one_by_one():
    good = Fernet.generate_key().decode()
    assert parse_fernet_keys(f"{good}, {good}") == [good, good]
    with pytest.raises(ConfigError, match="entry 2 is not a valid Fernet key"):
        parse_fernet_keys(f"{good},not-a-key")
    with pytest.raises(ConfigError, match="empty"):
        parse_fernet_keys(" , ")


@pytest.mark.parametrize(
    "url, message",
    [("mysql://u@h/db", "must be a PostgreSQL URL"), ("sqlite:///x.db", "must be a PostgreSQL URL"),
     ("postgres://u@h:5432/", "no database name")],
)  # fmt: skip
def test_database_url_must_be_postgres(url, message):
    with pytest.raises(ConfigError, match=message):
        check_database_url(url)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"DATABASE_URL": "mysql://root@127.0.0.1/x"}, "configuration error: DATABASE_URL must be a PostgreSQL URL"),
        ({"FERNET_KEYS": "nope"}, "configuration error: FERNET_KEYS entry 1 is not a valid Fernet key"),
        ({"DEBUG": "false", "DATABASE_URL": "postgres://u@127.0.0.1/x"}, "configuration error: SECRET_KEY is not set"),
        ({"DATABASE_URL": "postgres://nobody@127.0.0.1:1/nowhere"}, "database error:"),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(env, expected):
    result = manage("migrate", "--check", env_overrides=env)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(expected)


def test_check_deploy_passes_with_production_settings():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DEBUG": "false",
            "SECRET_KEY": "x" * 20 + Fernet.generate_key().decode(),
            "FERNET_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "recomamp.example.com",
            "DATABASE_URL": "postgres://u@127.0.0.1/recomamp",
            "AMAZON_CLIENT_ID": "amzn1.application-oa2-client.x",
            "AMAZON_CLIENT_SECRET": "secret",
        },
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_serve_refuses_a_port_in_use():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(CommandError, match=f"port {port} on 127.0.0.1 is already in use"):
            call_command("serve", port=port)
