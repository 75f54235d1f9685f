"""Sandbox rows as AMC's JSON objects (accounts, instances, executions, data sources)."""

from datetime import datetime, timedelta
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from . import clock, conf
from .models import SandboxAccount, SandboxExecution, SandboxInstance

NUMERIC_TYPES = ("LONG", "INTEGER", "DOUBLE", "DECIMAL")
# AMC's own account id for the buckets it manages; invented, like everything here.
AMC_AWS_ACCOUNT_ID = "000000000000"
S3_REGIONS = {"NA": "us-east-1", "EU": "eu-west-1", "FE": "us-west-2"}


def amc_time(moment: datetime | None) -> str | None:
    """Response timestamps: UTC with a Z and no fraction, e.g. 2023-08-16T04:12:53Z."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def api_base_url(request: HttpRequest, region: str = "NA") -> str:
    """The absolute URL the sandbox's AMC paths hang from in `region` (what AMC calls the apiEndpoint)."""
    path = reverse(f"sandbox:{region_url_name('accounts', region)}")
    return request.build_absolute_uri(path.removesuffix("/amc/accounts"))


def region_url_name(name: str, region: str) -> str:
    """URL names of the regional hosts: NA keeps the plain name, EU and FE add a suffix."""
    return name if region == "NA" else f"{name}-{region.lower()}"


def account_json(account: SandboxAccount) -> dict[str, Any]:
    return {"accountId": account.entity_id, "accountName": account.name, "marketplaceId": account.marketplace_id}


def instance_json(instance: SandboxInstance, request: HttpRequest) -> dict[str, Any]:
    region = instance.account.region
    return {
        "instanceId": instance.instance_id,
        "instanceName": instance.name,
        "instanceType": instance.instance_type,
        "customerCanonicalName": instance.account.name,
        "creationStatus": instance.creation_status,
        "creationDatetime": f"{instance.created_at:%Y-%m-%dT%H:%M:%S}.{instance.created_at.microsecond // 1000:03d}Z",
        "s3BucketName": f"amc-{instance.instance_id}",
        "s3BucketRegion": S3_REGIONS.get(region, "us-east-1"),
        "awsAccountId": AMC_AWS_ACCOUNT_ID,
        "dataUploadAwsAccountId": AMC_AWS_ACCOUNT_ID,
        "entities": ["NA"],
        "apiEndpoint": api_base_url(request, region),
        "acrCollaboration": None,
        "optionalDatasets": [],
        "advertiserTypes": list(instance.advertiser_types),
    }


def execution_json(execution: SandboxExecution, *, include_workflow: bool = False) -> dict[str, Any]:
    created = execution.created_at
    data: dict[str, Any] = {
        "workflowExecutionId": str(execution.execution_id),
        "workflowId": execution.workflow_id,
        "status": reported_status(execution),
        "createTime": amc_time(created),
        "lastUpdatedTime": amc_time(_last_updated(execution)),
        # AMC's samples show both, relative to createTime: an SLA alarm a day later and waitUntil an hour before.
        "expireTime": amc_time(created + timedelta(days=1)),
        "waitUntil": amc_time(created - timedelta(hours=1)),
        "timeWindowType": execution.time_window_type,
        "timeWindowStart": amc_time(execution.time_window_start),
        "timeWindowEnd": amc_time(execution.time_window_end),
        "timeWindowStartOriginal": execution.time_window_start_original,
        "timeWindowEndOriginal": execution.time_window_end_original,
        "timeWindowTimeZoneOriginal": execution.time_window_time_zone,
        "workflowExecutionTimeoutSeconds": execution.timeout_seconds,
        "parameterValues": execution.parameter_values,
        "disableAggregationControls": execution.request.get("disableAggregationControls", False),
        "requireSyntheticData": execution.request.get("requireSyntheticData", False),
        "ignoreDataGaps": execution.request.get("ignoreDataGaps", False),
        "dryRun": execution.dry_run,
        "executionCategory": "AD_HOC" if execution.is_adhoc else "SAVED",
        "dataGaps": [],
        "invalidationOffsetSecs": 259200,
        "outputS3URI": _output_uri(execution),
        "outputChannels": [{"channel": {"type": "DOWNLOAD"}, "status": _channel_status(execution)}],
    }
    for name in ("advertisers", "maxCertifiedTime", "maxDimensionTime"):
        if name in execution.request:
            data[name] = execution.request[name]
    if execution.status_reason:
        data["statusReason"] = execution.status_reason
    if include_workflow:
        data["sqlQuery"] = execution.workflow.get("sqlQuery")
        data["workflow"] = execution.workflow
    return data


def reported_status(execution: SandboxExecution) -> str:
    """AMC publishes a finished result before it says SUCCEEDED: a result that is published at all reports
    PUBLISHING for SANDBOX_PUBLISHING_SECONDS after its query finished (at `due_at`)."""
    if execution.status == SandboxExecution.Status.SUCCEEDED and execution.result_files and execution.due_at:
        if clock.now() < _published_at(execution):
            return "PUBLISHING"
    return execution.status


def _published_at(execution: SandboxExecution) -> datetime:
    return execution.due_at + timedelta(seconds=conf.get("SANDBOX_PUBLISHING_SECONDS"))


def _last_updated(execution: SandboxExecution) -> datetime:
    if execution.status == SandboxExecution.Status.SUCCEEDED and reported_status(execution) != "PUBLISHING":
        if execution.result_files and execution.due_at:  # SUCCEEDED since publishing ended
            return max(execution.last_updated_at, _published_at(execution))
    return execution.last_updated_at


def _output_uri(execution: SandboxExecution) -> str:
    schedule = "adhoc" if execution.is_adhoc else "manual"
    return (
        f"s3://amc-{execution.instance.instance_id}/workflow={execution.workflow_id}/schedule={schedule}/"
        f"{execution.created_at:%Y-%m-%d}-{execution.workflow_id}-ver1.csv"
    )


def _channel_status(execution: SandboxExecution) -> str:
    if execution.status in SandboxExecution.ACTIVE or reported_status(execution) == "PUBLISHING":
        return "PENDING"
    return "AVAILABLE" if execution.result_files else "UNAVAILABLE"


def data_source_json(name: str, columns) -> dict[str, Any]:
    return {
        "dataSourceId": name,
        "description": f"Synthetic sandbox data shaped like AMC's {name} table.",
        "owner": "AMAZON",
        "provider": "AMAZON",
        "isPremium": False,
        "tags": [],
        "columns": [
            {
                "name": column.name,
                "dataType": column.amc_type,
                "columnType": _column_type(column),
                "sensitivity": column.threshold,
                "description": "",
            }
            for column in columns
        ],
    }


def _column_type(column) -> str:
    """METRIC for numeric columns without a privacy threshold; the catalog does not record the role itself."""
    numeric = column.amc_type.startswith(NUMERIC_TYPES)
    return "METRIC" if numeric and column.threshold == "NONE" and not column.name.endswith("_id") else "DIMENSION"
