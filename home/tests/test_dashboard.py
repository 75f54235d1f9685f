from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import AmazonConnection
from executions.models import Execution
from schedules.models import Schedule

pytestmark = pytest.mark.django_db


def test_home_shows_running_recent_upcoming_attention_and_quota(user_client, user, make_instance, make_workflow):
    instance, workflow = make_instance(user), make_workflow(user, name="Reach <b>report</b>")
    now = timezone.now()
    Execution.objects.create(owner=user, instance=instance, workflow=workflow, status="running")
    Execution.objects.create(
        owner=user, instance=instance, workflow=workflow, status="succeeded", finished_at=now,
        submitted_at=now, amc_execution_id="amc-1",
    )  # fmt: skip
    Schedule.objects.create(
        owner=user, instance=instance, workflow=workflow, name="Soon", next_run_at=now + timedelta(hours=2)
    )
    Schedule.objects.create(
        owner=user, instance=instance, workflow=workflow, name="Broken", is_active=False,
        paused_by_failures=True, paused_reason="Paused after 3 consecutive failed runs.",
    )  # fmt: skip
    body = user_client.get(reverse("home")).content.decode()
    assert "Amazon Ads is not connected" in body
    assert "Reach &lt;b&gt;report&lt;/b&gt;" in body and "<b>report</b>" not in body
    assert "Soon" in body and "Paused by failures" in body
    assert "1 / 30" in body  # one ad hoc run submitted today
    assert "1 / 10" in body  # one running
    partial = user_client.get(reverse("home"), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and 'hx-trigger="every 5s"' in partial


def test_home_flags_a_connection_needing_reauth(user_client, user):
    AmazonConnection.objects.create(
        user=user, status="needs_reauth", refresh_token_encrypted="x", last_error="Reconnect Amazon Ads."
    )
    assert "needs attention: Reconnect Amazon Ads." in user_client.get(reverse("home")).content.decode()


def test_health_reports_backlog_signals(client, user, make_instance, make_workflow):
    ok = client.get(reverse("health")).json()
    assert ok["status"] == "ok" and ok["due_unclaimed_slots"] == 0
    Schedule.objects.create(
        owner=user, instance=make_instance(user), workflow=make_workflow(user), name="Late",
        next_run_at=datetime.now(UTC) - timedelta(minutes=30),
    )  # fmt: skip
    late = client.get(reverse("health")).json()
    assert late["status"] == "degraded" and late["due_unclaimed_slots"] == 1
