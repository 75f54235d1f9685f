"""Schedule pages: the dashboard and its quick actions, the wizard and edit page, the history page."""

from .dashboard import schedule_list, schedule_pause, schedule_resume, schedule_run_now
from .detail import schedule_detail, schedule_export
from .editing import (
    schedule_create,
    schedule_describe_cron,
    schedule_edit,
    schedule_parameter_fields,
    schedule_preview,
)

__all__ = [
    "schedule_create", "schedule_describe_cron", "schedule_detail", "schedule_edit", "schedule_export",
    "schedule_list", "schedule_parameter_fields", "schedule_pause", "schedule_preview", "schedule_resume",
    "schedule_run_now",
]  # fmt: skip
