"""What the home page and the health endpoint report: plain queries, a fixed number per page."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from accounts.models import AmazonConnection
from executions import quotas
from executions.models import Execution
from instances.models import AMCInstance
from recomamp.ownership import owned_by
from schedules.models import Schedule


def home_context(user, now=None) -> dict:
    now = now or timezone.now()
    executions = owned_by(user, Execution).select_related("workflow", "instance")
    schedules = owned_by(user, Schedule).select_related("workflow", "instance")
    instances = list(owned_by(user, AMCInstance).filter(status=AMCInstance.Status.ACTIVE).order_by("name"))
    usage = quotas.team_usage(instances, now)  # AMC's limits are the instance's: everyone's runs count
    quota = [(instance, usage[(instance.instance_id, instance.region)]) for instance in instances]
    return {
        "connection": AmazonConnection.objects.filter(user=user).first(),
        "running": executions.filter(status__in=Execution.ACTIVE_STATUSES)[:10],
        "recent": executions.filter(status__in=Execution.FINAL_STATUSES).order_by("-finished_at")[:10],
        "upcoming": schedules.filter(is_active=True, next_run_at__lte=now + timedelta(hours=24)).order_by(
            "next_run_at"
        )[:20],
        "attention": schedules.filter(Q(paused_by_failures=True) | Q(is_active=True, consecutive_failures__gt=0))[:20],
        "quota": quota,
        "quota_limits": {"adhoc": quotas.ADHOC_PER_DAY, "concurrent": quotas.CONCURRENT_PER_INSTANCE},
        "now": now,
    }


def _queue_depth(get_broker) -> int | None:
    """Tasks waiting in the configured broker (Redis or the ORM); None when the broker cannot be asked."""
    try:
        return get_broker().queue_size()
    except Exception:  # noqa: BLE001 - a broken broker is itself what the health check reports
        return None


def health_report(now=None) -> dict:
    """Operational signals for monitoring (docs/operations.md says what to alert on)."""
    from django_q.brokers import get_broker

    now = now or timezone.now()
    overdue = Schedule.objects.filter(is_active=True, next_run_at__lt=now - timedelta(minutes=5)).count()
    past_timeout = Execution.objects.filter(
        status__in=Execution.POLLED_STATUSES,
        submitted_at__lt=now - timedelta(hours=24, minutes=10),
    ).count()
    return {
        "queue_depth": _queue_depth(get_broker),
        "due_unclaimed_slots": overdue,
        "executions_active": Execution.objects.filter(status__in=Execution.ACTIVE_STATUSES).count(),
        "executions_past_timeout": past_timeout,
        "connections_needing_reauth": AmazonConnection.objects.filter(
            status=AmazonConnection.Status.NEEDS_REAUTH
        ).count(),
    }
