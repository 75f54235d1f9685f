"""The AMC reporting and administration API, served under /sandbox with AMC's paths, headers and answers.

Every endpoint goes through `amc_endpoint`, which applies, in order: injected faults (before any business
logic), the bearer token and client id (401), the AdvertiserId/MarketplaceId headers (400 when missing) and
the instance's account (403 otherwise). Errors are AMC's `{"code": "<status>", "details": "..."}`, except on
`GET /amc/accounts`, which answers `{"message": ..., "requestId": ...}` like AMC does.
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from . import auth, conf, downloads, faults, lookups, paging, serialize, state, windows, workflows
from .engine import schema
from .models import SandboxAccount, SandboxExecution, SandboxInstance, SandboxWorkflow
from .responses import ApiError, amc_json, error_response, read_json_body
from .seed import ensure_sandbox_catalog


def amc_endpoint(scope: str, methods: tuple[str, ...]) -> Callable:
    """`scope`: "accounts" (no advertiser headers), "account" (headers name the account) or "instance"."""

    def decorate(view: Callable) -> Callable:
        @csrf_exempt
        @login_not_required
        @wraps(view)
        def wrapper(request: HttpRequest, region: str = "NA", **kwargs) -> HttpResponse:
            try:
                if request.method not in methods:
                    raise ApiError(405, f"{request.method} is not supported on this path.")
                faults.inject(faults.settings_faults())
                instance = None
                if scope == "instance":
                    instance_id = kwargs.pop("instance_id")
                    # A found instance proves the catalog exists: the usual call reads no more than the instance.
                    instance = _instance(instance_id)
                    if instance is None and _ensure_catalog():
                        instance = _instance(instance_id)
                    faults.inject(faults.instance_faults(instance))
                else:
                    _ensure_catalog()
                auth.authenticate(request)
                if scope == "accounts":
                    kwargs["region"] = region
                elif scope == "account":
                    kwargs["account"] = auth.account_from_headers(request, region)
                elif scope == "instance":
                    kwargs["instance"] = auth.check_instance_access(request, instance, region)
                return view(request, **kwargs)
            except ApiError as error:
                response = error_response(error, message_shape=scope == "accounts")
                if error.status == 405:
                    response["Allow"] = ", ".join(methods)
                return response

        return wrapper

    return decorate


def _ensure_catalog() -> bool:
    """The sandbox's accounts and instances exist (created on first use); True when it had to create them."""
    if SandboxAccount.objects.exists():
        return False
    ensure_sandbox_catalog()
    return True


def _instance(instance_id: str) -> SandboxInstance | None:
    return lookups.instance(instance_id)


def _flag(request: HttpRequest, name: str) -> bool:
    return request.GET.get(name, "").lower() == "true"


def _page(key: str, items: list, next_token: str | None) -> HttpResponse:
    body = {key: items}
    if next_token:
        body["nextToken"] = next_token
    return amc_json(body)


# --- Administration ---------------------------------------------------------------------------------------


@amc_endpoint("accounts", ("GET",))
def accounts(request, region):
    queryset = SandboxAccount.objects.filter(region=region)  # each regional host lists its own accounts
    rows, token = paging.page_queryset(queryset, ("entity_id",), request.GET, kind=f"accounts.{region}")
    return _page("amcAccounts", [serialize.account_json(a) for a in rows], token)


@amc_endpoint("account", ("GET",))
def instances(request, account):
    queryset = SandboxInstance.objects.filter(account=account).select_related("account")
    rows, token = paging.page_queryset(queryset, ("instance_id",), request.GET, kind="instances")
    return _page("instances", [serialize.instance_json(i, request) for i in rows], token)


@amc_endpoint("instance", ("GET",))
def instance_detail(request, instance):
    return amc_json({"instance": serialize.instance_json(instance, request)})


# --- Workflows --------------------------------------------------------------------------------------------


@amc_endpoint("instance", ("GET", "POST"))
def workflow_list(request, instance):
    if request.method == "POST":
        workflows.create(instance, read_json_body(request))
        return amc_json({})
    queryset = SandboxWorkflow.objects.filter(instance=instance)
    rows, token = paging.page_queryset(queryset, ("workflow_id",), request.GET, kind=f"workflows.{instance.pk}")
    return _page("workflows", [workflows.as_json(w) for w in rows], token)


@amc_endpoint("instance", ("GET", "PUT", "DELETE"))
def workflow_detail(request, instance, workflow_id):
    if request.method == "PUT":
        workflows.update(instance, workflow_id, read_json_body(request))
        return amc_json({})
    if request.method == "DELETE":
        workflows.delete(instance, workflow_id)
        return amc_json({})
    body = workflows.as_json(workflows.get(instance, workflow_id))
    return amc_json({"workflow": body} if conf.get("SANDBOX_WRAP_WORKFLOW") else body)


# --- Workflow executions ----------------------------------------------------------------------------------


@amc_endpoint("instance", ("GET", "POST"))
def execution_list(request, instance):
    if request.method == "POST":
        execution = state.create_execution(instance, read_json_body(request))
        return amc_json(serialize.execution_json(execution))
    state.refresh_instance(instance)
    params = request.GET
    workflow_id = params.get("workflowId") or None
    zone = windows.zone_named(params.get("timeZone") or "UTC", "timeZone")
    if not (workflow_id or params.get("minCreationTime")):
        raise ApiError(400, "Either minCreationTime or workflowId is required.")
    queryset = SandboxExecution.objects.filter(instance=instance).select_related("instance")
    if workflow_id:
        queryset = queryset.filter(workflow_id=workflow_id)
    for name, lookup in (("minCreationTime", "created_at__gte"), ("maxCreationTime", "created_at__lte")):
        if params.get(name):
            moment = windows.parse_request_time(params[name], name).replace(tzinfo=zone)
            queryset = queryset.filter(**{lookup: moment})
    if not _flag(request, "includeCancelled"):
        queryset = queryset.exclude(status=SandboxExecution.Status.CANCELLED)
    rows, token = paging.page_queryset(
        queryset,
        ("created_at", "id"),
        params,
        kind=f"executions.{instance.pk}",
        descending=not _flag(request, "sortAscending"),
    )
    include_workflow = _flag(request, "includeWorkflow")
    return _page("executions", [serialize.execution_json(e, include_workflow=include_workflow) for e in rows], token)


@amc_endpoint("instance", ("GET", "PUT", "DELETE"))
def execution_detail(request, instance, execution_id):
    if request.method == "PUT":
        state.update_execution(instance, execution_id, read_json_body(request))
        return amc_json({})
    if request.method == "DELETE":  # documented as "clear the queue": the same as cancelling
        state.update_execution(instance, execution_id, {"status": SandboxExecution.Status.CANCELLED})
        return amc_json({})
    state.refresh_instance(instance)
    execution = state.get_execution(instance, execution_id)
    return amc_json(serialize.execution_json(execution, include_workflow=_flag(request, "includeWorkflow")))


@amc_endpoint("instance", ("GET",))
def download_urls(request, instance, execution_id):
    state.refresh_instance(instance)
    execution = state.get_execution(instance, execution_id)
    if serialize.reported_status(execution) != SandboxExecution.Status.SUCCEEDED or not execution.result_files:
        raise ApiError(404, f"Execution with ID {execution_id} is unavailable for download.")
    urls, metadata_urls = downloads.signed_urls(request, execution)
    return amc_json({"downloadUrls": urls, "metadataDownloadUrls": metadata_urls, "nextToken": None})


@csrf_exempt
@login_not_required
def download(request, token, name):
    """A pre-signed result link: no headers needed, like an S3 pre-signed GET."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponse(status=405, headers={"Allow": "GET, HEAD"})
    return downloads.open_download(token, name)


# --- Data sources -----------------------------------------------------------------------------------------


@amc_endpoint("instance", ("GET",))
def data_source_list(request, instance):
    names = sorted(schema.tables())
    page, token = paging.page_list(names, request.GET, kind="datasources")
    return _page("dataSources", [serialize.data_source_json(n, schema.columns_of(n)) for n in page], token)


@amc_endpoint("instance", ("GET",))
def data_source_detail(request, instance, data_source_id):
    if not schema.is_known_table(data_source_id):
        raise ApiError(404, f"Data source with ID {data_source_id} does not exist.")
    return amc_json({"dataSource": serialize.data_source_json(data_source_id, schema.columns_of(data_source_id))})
