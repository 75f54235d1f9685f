"""`manage.py migrate` alone creates the database cache's table (no separate createcachetable step)."""

import importlib

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_the_migration_creates_the_cache_table_when_it_is_missing():
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE recomamp_cache")
    assert "recomamp_cache" not in connection.introspection.table_names()
    migration = importlib.import_module("accounts.migrations.0002_database_cache_table")
    migration.create_cache_table(None, connection.schema_editor())
    assert "recomamp_cache" in connection.introspection.table_names()
    migration.create_cache_table(None, connection.schema_editor())  # a second run is harmless
