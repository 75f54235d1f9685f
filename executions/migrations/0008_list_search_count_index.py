"""(owner, workflow, -created_at) for the executions list (executions/listing.py): the search by query name counts
its matches on this index alone (an index-only scan) instead of testing every row up to the 1,001st match."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0007_publishing_status_and_cancel_request"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="execution",
            index=models.Index(fields=["owner", "workflow", "-created_at"], name="execution_owner_workflow"),
        ),
    ]
