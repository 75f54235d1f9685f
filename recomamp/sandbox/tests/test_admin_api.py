"""Accounts, instances and data sources over real HTTP."""

import pytest

from recomamp.sandbox import auth
from recomamp.sandbox.engine import schema
from recomamp.sandbox.models import SandboxAccount, SandboxInstance

pytestmark = pytest.mark.django_db(transaction=True)


def test_accounts_list_needs_no_advertiser_headers(sandbox):
    headers = sandbox.headers(**{auth.ADVERTISER_HEADER: None, auth.MARKETPLACE_HEADER: None})
    response = sandbox.call("GET", "/amc/accounts", headers=headers)
    assert response.status_code == 200
    accounts = response.json()["amcAccounts"]
    na = SandboxAccount.objects.filter(region="NA").values_list("entity_id", flat=True)
    assert {a["accountId"] for a in accounts} == set(na)  # each regional host lists its own region's accounts
    assert all(set(a) == {"accountId", "accountName", "marketplaceId"} for a in accounts)
    assert "nextToken" not in response.json()


def test_instances_are_listed_per_account(sandbox):
    prefixes = {"NA": "", "EU": "/eu", "FE": "/fe"}
    for account in SandboxAccount.objects.all():
        headers = sandbox.headers(
            **{auth.ADVERTISER_HEADER: account.entity_id, auth.MARKETPLACE_HEADER: account.marketplace_id}
        )
        path = f"{prefixes[account.region]}/amc/instances"
        listed = sandbox.call("GET", path, headers=headers).json()["instances"]
        expected = set(SandboxInstance.objects.filter(account=account).values_list("instance_id", flat=True))
        assert {i["instanceId"] for i in listed} == expected


def test_instance_object_has_amc_fields(sandbox, live_server):
    instance = sandbox.call("GET", f"/amc/instances/{sandbox.instance_id}").json()["instance"]
    assert instance["instanceType"] == "SANDBOX"
    assert instance["creationStatus"] == "COMPLETED"
    assert instance["apiEndpoint"] == f"{live_server.url}/sandbox"
    assert instance["entities"] == ["NA"]
    assert instance["creationDatetime"].endswith("Z")
    assert {"instanceName", "s3BucketName", "advertiserTypes", "optionalDatasets"} <= set(instance)


def test_instances_page_with_limit_and_next_token(sandbox):
    first = sandbox.call("GET", "/amc/instances", params={"limit": 1}).json()
    assert len(first["instances"]) == 1
    second = sandbox.call("GET", "/amc/instances", params={"limit": 1, "nextToken": first["nextToken"]}).json()
    assert len(second["instances"]) == 1
    assert "nextToken" not in second
    assert first["instances"][0]["instanceId"] != second["instances"][0]["instanceId"]


def test_bad_limit_and_token_are_400(sandbox):
    assert sandbox.call("GET", "/amc/instances", params={"limit": 101}).status_code == 400
    assert sandbox.call("GET", "/amc/instances", params={"nextToken": "forged"}).status_code == 400


def test_data_sources_list_every_engine_table_with_columns(sandbox):
    names, token = [], ""
    while True:
        body = sandbox.reporting("GET", "/dataSources", params={"limit": 10, "nextToken": token}).json()
        names += [d["dataSourceId"] for d in body["dataSources"]]
        token = body.get("nextToken")
        if not token:
            break
    assert names == sorted(schema.tables())
    detail = sandbox.reporting("GET", "/dataSources/dsp_impressions").json()["dataSource"]
    columns = {c["name"]: c for c in detail["columns"]}
    assert set(columns) == schema.column_names("dsp_impressions")
    assert columns["user_id"]["sensitivity"] == "VERY_HIGH"
    assert sandbox.reporting("GET", "/dataSources/no_such_table").status_code == 404
