"""The database cache's table (settings.CACHES), so that `manage.py migrate` alone prepares everything: the
login throttle and the catalog cache use it from the first request or command on."""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    # createcachetable skips tables that already exist, so older installs that ran it by hand are fine.
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
