"""Sandbox routes, mounted at /sandbox/: AMC's API paths, LWA's two endpoints and the result links."""

from django.urls import path

from . import api_views, lwa_views
from .serialize import region_url_name as url_name

app_name = "sandbox"

REPORTING = "amc/reporting/<str:instance_id>"

# AMC's three regional hosts (advertising-api, -eu, -fe) are served under "", "eu/" and "fe/".
REGION_PREFIXES = {"NA": "", "EU": "eu/", "FE": "fe/"}


def _api_patterns(region: str) -> list:
    prefix, extra = REGION_PREFIXES[region], {"region": region}
    return [
        path(prefix + route, view, extra, name=url_name(name, region))
        for route, view, name in (
            ("amc/accounts", api_views.accounts, "accounts"),
            ("amc/instances", api_views.instances, "instances"),
            ("amc/instances/<str:instance_id>", api_views.instance_detail, "instance"),
            (f"{REPORTING}/workflows", api_views.workflow_list, "workflows"),
            (f"{REPORTING}/workflows/<str:workflow_id>", api_views.workflow_detail, "workflow"),
            (f"{REPORTING}/workflowExecutions", api_views.execution_list, "executions"),
            (f"{REPORTING}/workflowExecutions/<str:execution_id>", api_views.execution_detail, "execution"),
            (
                f"{REPORTING}/workflowExecutions/<str:execution_id>/downloadUrls",
                api_views.download_urls,
                "download-urls",
            ),
            (f"{REPORTING}/dataSources", api_views.data_source_list, "data-sources"),
            (f"{REPORTING}/dataSources/<str:data_source_id>", api_views.data_source_detail, "data-source"),
        )
    ]


urlpatterns = [
    path("ap/oa", lwa_views.authorize, name="lwa-authorize"),
    path("auth/o2/token", lwa_views.token, name="lwa-token"),
    *[pattern for region in REGION_PREFIXES for pattern in _api_patterns(region)],
    path("results/<str:token>/<str:name>", api_views.download, name="download"),
]
