"""The sandbox refuses at compile time what AMC refuses at compile time: a column missing from GROUP BY.

Before, it passed the dry run and failed 17 s later with a DuckDB binder message.
"""

import pytest

from accounts.amazon import amc_client_for
from executions import services
from executions.models import Execution

from .test_execution_flow import WINDOW, drive

pytestmark = pytest.mark.django_db(transaction=True)

BAD = "SELECT campaign,\n  advertiser,\n  COUNT(DISTINCT user_id) AS reach\nFROM dsp_impressions\nGROUP BY campaign"


def test_dry_run_on_amc_refuses_a_column_missing_from_group_by(connected_user, demo_instance):
    with amc_client_for(connected_user, demo_instance.region) as client:
        answer = client.create_adhoc_execution(demo_instance, BAD, window=WINDOW.to_amc(), dry_run=True)
    assert answer.status == "REJECTED"  # AMC's answer to a dry run of a query that does not compile
    text = answer.status_reason
    assert "'advertiser' is neither present in the group by" in text and "line 2, column 3" in text
    assert "Binder" not in text and "DuckDB" not in text


def test_a_run_fails_at_compile_with_amc_wording_and_position(connected_user, demo_instance):
    execution = services.start_execution(
        owner=connected_user, instance=demo_instance, sql=BAD, window=WINDOW, submit=False
    )
    done = drive(execution)
    assert done.status == Execution.Status.FAILED and done.error_kind == "AMCValidationError"
    assert (done.error_line, done.error_column) == (2, 3)
    assert "neither present in the group by" in done.error_message and "Binder" not in done.error_message
