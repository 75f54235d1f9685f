"""django-q2 tasks of the accounts app (thin: they call services)."""

from . import amazon


def refresh_expiring_tokens() -> dict:
    outcomes = amazon.refresh_due_connections()
    summary: dict[str, int] = {}
    for outcome in outcomes:
        summary[outcome.result] = summary.get(outcome.result, 0) + 1
    return summary
