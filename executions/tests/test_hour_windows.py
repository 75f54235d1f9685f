"""AMC accepts only whole hours in a time window: every path rejects others with the reason, nothing is sent."""

from datetime import UTC, datetime

import pytest
from django.core.management import CommandError, call_command

from executions import services
from executions.models import Execution
from recomamp.sandbox.models import SandboxExecution

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"


@pytest.mark.parametrize(
    ("start", "end", "zone", "said"),
    [
        (datetime(2025, 11, 1, 6, 30, tzinfo=UTC), datetime(2025, 11, 2, tzinfo=UTC), "UTC", "start 06:30:00"),
        (datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 2, 7, 15, 10, tzinfo=UTC), "UTC", "end 07:15:10"),
        # Whole UTC hours are half past in India, which is what AMC would read with that zone.
        (datetime(2025, 11, 1, tzinfo=UTC), datetime(2025, 11, 2, tzinfo=UTC), "Asia/Kolkata", "start 05:30:00"),
    ],
)
def test_window_off_the_hour_is_rejected_with_the_reason(connected_user, demo_instance, start, end, zone, said):
    window = services.WindowSpec("EXPLICIT", start, end, zone)
    with pytest.raises(services.ExecutionInputError, match=f"AMC accepts only whole hours: the {said}"):
        services.start_execution(owner=connected_user, instance=demo_instance, window=window, sql=SQL)
    assert not Execution.objects.exists() and not SandboxExecution.objects.exists()


def test_run_query_rejects_an_instant_off_the_hour(connected_user, demo_instance, tmp_path):
    sql_file = tmp_path / "q.sql"
    sql_file.write_text(SQL)
    with pytest.raises(CommandError, match="the start 06:30:00 is not on the hour"):
        call_command(
            "run_query", "--user", connected_user.email, "--instance", demo_instance.instance_id,
            "--sql-file", str(sql_file), "--start", "2025-11-01T06:30", "--end", "2025-11-30", "--tz", "UTC",
        )  # fmt: skip
    assert not SandboxExecution.objects.exists()


def test_the_sandbox_refuses_a_window_off_the_hour_like_amc(connected_user, demo_instance):
    from accounts.amazon import amc_client_for
    from recomamp.amc.errors import AMCValidationError
    from recomamp.amc.records import TimeWindow

    window = TimeWindow("EXPLICIT", datetime(2025, 11, 1, 6, 30), datetime(2025, 11, 2), "UTC")
    with amc_client_for(connected_user, demo_instance.region) as client:
        with pytest.raises(AMCValidationError, match="timeWindowStart must be on a full hour"):
            client.create_adhoc_execution(demo_instance, SQL, window=window)


def test_run_query_reads_dates_in_the_instance_reporting_time_zone(connected_user, demo_instance, tmp_path):
    demo_instance.timezone = "Europe/London"
    demo_instance.save()
    sql_file = tmp_path / "q.sql"
    sql_file.write_text(SQL)
    call_command(
        "run_query", "--user", connected_user.email, "--instance", demo_instance.instance_id,
        "--sql-file", str(sql_file), "--start", "2025-07-01", "--end", "2025-07-31",
    )  # fmt: skip
    execution = Execution.objects.get()
    assert execution.time_window_timezone == "Europe/London"
    assert execution.time_window_start == datetime(2025, 6, 30, 23, tzinfo=UTC)  # midnight in London (BST)


def test_run_dialog_defaults_to_the_instance_reporting_time_zone(connected_user, demo_instance, client):
    from django.urls import reverse

    from instances.models import AMCInstance

    AMCInstance.objects.filter(owner=connected_user).update(timezone="Asia/Tokyo")
    client.force_login(connected_user)
    page = client.post(reverse("execution_run"), {"sql": SQL}).content.decode()
    assert 'name="timezone" value="Asia/Tokyo"' in page
