"""Sandbox routes, mounted at /sandbox/: AMC's API paths, LWA's two endpoints and the result links."""

from django.urls import path

from . import api_views, lwa_views

app_name = "sandbox"

REPORTING = "amc/reporting/<str:instance_id>"

urlpatterns = [
    path("ap/oa", lwa_views.authorize, name="lwa-authorize"),
    path("auth/o2/token", lwa_views.token, name="lwa-token"),
    path("amc/accounts", api_views.accounts, name="accounts"),
    path("amc/instances", api_views.instances, name="instances"),
    path("amc/instances/<str:instance_id>", api_views.instance_detail, name="instance"),
    path(f"{REPORTING}/workflows", api_views.workflow_list, name="workflows"),
    path(f"{REPORTING}/workflows/<str:workflow_id>", api_views.workflow_detail, name="workflow"),
    path(f"{REPORTING}/workflowExecutions", api_views.execution_list, name="executions"),
    path(f"{REPORTING}/workflowExecutions/<str:execution_id>", api_views.execution_detail, name="execution"),
    path(
        f"{REPORTING}/workflowExecutions/<str:execution_id>/downloadUrls",
        api_views.download_urls,
        name="download-urls",
    ),
    path(f"{REPORTING}/dataSources", api_views.data_source_list, name="data-sources"),
    path(f"{REPORTING}/dataSources/<str:data_source_id>", api_views.data_source_detail, name="data-source"),
    path("results/<str:token>/<str:name>", api_views.download, name="download"),
]
