"""Results kept in an S3-compatible bucket (moto's server over real HTTP): ingest, pages, charts, downloads and
deletion behave as on the local disk, and nothing is written under MEDIA_ROOT."""

import csv
import io
import json

import pytest
from django.urls import reverse

from executions import services
from executions.models import Execution
from executions.tests.test_execution_flow import SQL, WINDOW, drive

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def stored_in_bucket(s3_results, connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=SQL, window=WINDOW, submit=False
    )
    done = drive(execution)
    assert done.status == Execution.Status.SUCCEEDED, done.error_message
    return done


def test_ingest_writes_the_csv_and_its_parquet_copy_to_the_bucket(stored_in_bucket, s3_server, s3_results, settings):
    keys = s3_server.keys(s3_results)
    name = stored_in_bucket.result.file.name
    assert name in keys and name.startswith("results/")
    assert any(key.endswith(".parquet") for key in keys), keys
    body = s3_server.client().get_object(Bucket=s3_results, Key=name)["Body"].read().decode()
    assert body.splitlines()[0] == "campaign,impressions,reach"
    assert len(body.strip().splitlines()) == stored_in_bucket.result.row_count + 1
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(media.rglob("*.csv")), "a result was written to the local disk"


def test_pages_charts_and_downloads_read_from_the_bucket(stored_in_bucket, client, connected_user, s3_server):
    client.force_login(connected_user)
    execution_id = stored_in_bucket.execution_id
    page = client.get(reverse("execution_results", args=[execution_id]), {"sort": "impressions", "dir": "desc"})
    assert page.status_code == 200
    with stored_in_bucket.result.file.open("rb") as handle:
        rows = list(csv.reader(io.StringIO(handle.read().decode())))[1:]
    top = max(rows, key=lambda row: int(row[1]))
    assert top[0] in page.content.decode()

    chart = client.get(reverse("execution_chart", args=[execution_id]))
    assert chart.status_code == 200

    downloaded = client.get(reverse("execution_download", args=[execution_id, "csv"]))
    assert downloaded.status_code == 200
    body = b"".join(downloaded.streaming_content) if downloaded.streaming else downloaded.content
    assert sorted(list(csv.reader(io.StringIO(body.decode())))[1:]) == sorted(rows)

    as_json = client.get(reverse("execution_download", args=[execution_id, "json"]))
    body = b"".join(as_json.streaming_content) if as_json.streaming else as_json.content
    assert len(json.loads(body)) == len(rows)


def test_deleting_a_result_removes_its_objects(stored_in_bucket, s3_server, s3_results):
    assert s3_server.keys(s3_results)
    Execution.objects.filter(pk=stored_in_bucket.pk).delete()
    assert s3_server.keys(s3_results) == []
