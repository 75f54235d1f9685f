"""Indexes for the executions list (executions/listing.py): pg_trgm GIN indexes serving the search, and
(owner, status, -created_at) serving the status filter's pages and capped count.

The search is `icontains`, which Django writes as UPPER(col::text) LIKE UPPER('%text%'), so the indexes are on
that exact expression. Keyset pages use the existing (owner, -created_at) and (instance|workflow, -created_at)
indexes.
"""

from django.db import migrations, models

INDEXED = [("execution_id_trgm", "execution_id"), ("execution_amc_id_trgm", "amc_execution_id")]


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0005_execution_query_version"),
    ]

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm", reverse_sql=migrations.RunSQL.noop),
        *(
            migrations.RunSQL(
                f'CREATE INDEX IF NOT EXISTS {name} ON executions_execution USING gin ((UPPER("{column}"::text)) gin_trgm_ops)',
                reverse_sql=f"DROP INDEX IF EXISTS {name}",
            )
            for name, column in INDEXED
        ),
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(fields=["owner", "status", "-created_at"], name="execution_owner_status_created"),
        ),
    ]
