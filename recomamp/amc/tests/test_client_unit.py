import json
import logging
import random
import uuid
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from recomamp.amc import (
    AccountRef,
    AMCAuthError,
    AMCClient,
    AMCConnectionError,
    AMCError,
    AMCForbiddenError,
    AMCNotFoundError,
    AMCQuotaError,
    AMCResponseError,
    AMCServerError,
    AMCThrottledError,
    AMCTimeoutError,
    AMCValidationError,
    InstanceRef,
    StaticTokenProvider,
    TimeWindow,
    base_url_for_region,
)

BASE = "http://127.0.0.1:8765/sandbox"
CLIENT_ID = "amzn1.application-oa2-client.test"
TOKEN = "Atza|first-token"
INSTANCE = InstanceRef("amc1alal2aa", "ENTITY1ABC", "ATVPDKIKX0DER", region="NA")
EXEC_ID = "2b04762b-cbdb-47c7-be39-42a585ecd40e"
EXECUTION = {
    "workflowExecutionId": EXEC_ID,
    "workflowId": "wf_4c384646",
    "status": "RUNNING",
    "createTime": "2023-08-16T04:12:53Z",
    "lastUpdatedTime": "2023-08-16T04:13:10.250Z",
    "timeWindowStart": "2022-09-20T04:00:00Z",
    "timeWindowEnd": "2022-09-27T04:00:00Z",
}


class FakeSleep:
    def __init__(self):
        self.delays = []

    def __call__(self, seconds):
        self.delays.append(seconds)


class FixedRandom(random.Random):
    """Jitter pinned to one value so retry delays are predictable."""

    def __init__(self, value):
        super().__init__()
        self.value = value

    def random(self):
        return self.value


class RefreshingTokens:
    def __init__(self):
        self.refreshes = 0

    def access_token(self):
        return TOKEN

    def refresh_access_token(self):
        self.refreshes += 1
        return f"Atza|refreshed-{self.refreshes}"


class Server:
    """Answers requests from a script: each entry is a response, a JSON body, or an httpx error class."""

    def __init__(self, *script):
        self.script = list(script)
        self.requests = []

    def __call__(self, request):
        self.requests.append(request)
        step = self.script.pop(0)
        if isinstance(step, type) and issubclass(step, httpx.TransportError):
            raise step("simulated", request=request)
        if isinstance(step, httpx.Response):
            return step
        return httpx.Response(200, json=step)

    def body(self, index=-1):
        return json.loads(self.requests[index].content)

    def query(self, index=-1):
        return {key: values[0] for key, values in parse_qs(urlsplit(str(self.requests[index].url)).query).items()}


def make_client(server, *, tokens=None, rng_value=0.5, **kwargs):
    sleep = FakeSleep()
    client = AMCClient(
        BASE,
        CLIENT_ID,
        tokens or StaticTokenProvider(TOKEN),
        transport=httpx.MockTransport(server),
        sleep=sleep,
        rng=FixedRandom(rng_value),
        **kwargs,
    )
    return client, sleep


def error(status, details, headers=None):
    return httpx.Response(status, json={"code": str(status), "details": details}, headers=headers)


# Headers and URLs


def test_headers_are_built_with_the_exact_names_and_values():
    server = Server({"instance": {"instanceId": "amc1alal2aa", "instanceType": "SANDBOX"}})
    client, _ = make_client(server)

    instance = client.get_instance(INSTANCE)

    sent = server.requests[0]
    assert str(sent.url) == f"{BASE}/amc/instances/amc1alal2aa"
    assert sent.headers["Amazon-Advertising-API-ClientId"] == CLIENT_ID
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["Amazon-Advertising-API-AdvertiserId"] == "ENTITY1ABC"
    assert sent.headers["Amazon-Advertising-API-MarketplaceId"] == "ATVPDKIKX0DER"
    assert "Amazon-Advertising-API-Scope" not in sent.headers
    assert instance.instance_id == "amc1alal2aa" and instance.is_sandbox


def test_list_accounts_sends_no_advertiser_headers():
    server = Server({"amcAccounts": [{"accountId": "ENTITY1", "accountName": "Demo", "marketplaceId": "A1"}]})
    client, _ = make_client(server)

    accounts = client.list_accounts()

    sent = server.requests[0]
    assert sent.url.path == "/sandbox/amc/accounts"
    assert "Amazon-Advertising-API-AdvertiserId" not in sent.headers
    assert "Amazon-Advertising-API-MarketplaceId" not in sent.headers
    assert [(a.account_id, a.name, a.marketplace_id) for a in accounts] == [("ENTITY1", "Demo", "A1")]


@pytest.mark.parametrize("base", [BASE, BASE + "/"])
def test_base_url_path_prefix_is_kept(base):
    server = Server({"workflows": []})
    client = AMCClient(base, CLIENT_ID, StaticTokenProvider(TOKEN), transport=httpx.MockTransport(server))
    client.list_workflows(INSTANCE)
    assert str(server.requests[0].url) == f"{BASE}/amc/reporting/amc1alal2aa/workflows"


def test_ids_in_paths_are_quoted_so_they_cannot_add_path_levels():
    server = Server({"workflowId": "a/b?c"})
    client, _ = make_client(server)
    client.get_workflow(INSTANCE, "a/b?c")
    assert server.requests[0].url.raw_path == b"/sandbox/amc/reporting/amc1alal2aa/workflows/a%2Fb%3Fc"


def test_tokens_never_reach_the_log(caplog):
    server = Server(EXECUTION)
    client, _ = make_client(server)
    with caplog.at_level(logging.DEBUG, logger="recomamp.amc.client"):
        client.get_execution(INSTANCE, EXEC_ID)
    assert f"/amc/reporting/amc1alal2aa/workflowExecutions/{EXEC_ID}" in caplog.text
    assert "200" in caplog.text
    assert "Atza" not in caplog.text


def test_static_token_provider_hides_its_token():
    assert "Atza" not in repr(StaticTokenProvider(TOKEN))


def test_base_url_for_region_ignores_case_and_names_known_regions():
    urls = {"NA": "https://advertising-api.amazon.com", "EU": "https://advertising-api-eu.amazon.com"}
    assert base_url_for_region("eu", urls) == "https://advertising-api-eu.amazon.com"
    with pytest.raises(ValueError, match="EU, NA"):
        base_url_for_region("FE", urls)


def test_constructor_rejects_bad_settings():
    with pytest.raises(ValueError):
        AMCClient("advertising-api.amazon.com", CLIENT_ID, StaticTokenProvider(TOKEN))
    with pytest.raises(ValueError):
        AMCClient(BASE, CLIENT_ID, StaticTokenProvider(TOKEN), max_attempts=0)


# Instance references


class FakeModel:
    pk = uuid.uuid4()

    def amc_ref(self):
        return INSTANCE


@pytest.mark.parametrize("wrong", ["amc1alal2aa", uuid.uuid4(), str(uuid.uuid4()), 42, object()])
def test_bare_ids_are_refused_before_any_request(wrong):
    server = Server()
    client, _ = make_client(server)
    with pytest.raises(TypeError):
        client.get_execution(wrong, EXEC_ID)
    assert server.requests == []


def test_objects_with_amc_ref_are_accepted():
    server = Server(EXECUTION)
    client, _ = make_client(server)
    client.get_execution(FakeModel(), EXEC_ID)
    assert server.requests[0].url.path.startswith("/sandbox/amc/reporting/amc1alal2aa/")


def test_amc_ref_must_return_an_instance_ref():
    class Broken:
        def amc_ref(self):
            return "amc1alal2aa"

    client, _ = make_client(Server())
    with pytest.raises(TypeError, match="expected InstanceRef"):
        client.get_execution(Broken(), EXEC_ID)


def test_instance_ref_refuses_an_internal_uuid_as_amc_id():
    with pytest.raises(ValueError, match="internal UUID"):
        InstanceRef(str(uuid.uuid4()), "ENTITY1ABC", "ATVPDKIKX0DER")
    with pytest.raises(ValueError):
        InstanceRef("amc1alal2aa", "", "ATVPDKIKX0DER")


def test_list_instances_takes_an_account_or_instance_ref():
    server = Server({"instances": [{"instanceId": "amcA"}]}, {"instances": [{"instanceId": "amcB"}]})
    client, _ = make_client(server)

    first = client.list_instances(AccountRef("ENTITY9", "A1F83G8C2ARO7P"))
    second = client.list_instances(INSTANCE)

    assert [i.instance_id for i in first + second] == ["amcA", "amcB"]
    assert server.requests[0].headers["Amazon-Advertising-API-AdvertiserId"] == "ENTITY9"
    assert server.requests[0].headers["Amazon-Advertising-API-MarketplaceId"] == "A1F83G8C2ARO7P"
    assert server.requests[1].headers["Amazon-Advertising-API-AdvertiserId"] == "ENTITY1ABC"
    with pytest.raises(TypeError):
        client.list_instances("ENTITY9")


# Workflows, executions, downloads, data sources


def test_workflow_create_update_get_delete():
    server = Server({}, {}, {"workflow": {"workflowId": "wf_1", "sqlQuery": "SELECT 1"}}, httpx.Response(200))
    client, _ = make_client(server)
    parameters = [{"name": "campaign", "dataType": "STRING", "defaultValue": "x"}]

    client.create_workflow(INSTANCE, "wf_1", "SELECT 1", input_parameters=parameters, extra={"inputSchema": "s"})
    client.update_workflow(INSTANCE, "wf_1", "SELECT 2")
    workflow = client.get_workflow(INSTANCE, "wf_1")
    client.delete_workflow(INSTANCE, "wf_1")

    methods = [(r.method, r.url.path) for r in server.requests]
    assert methods == [
        ("POST", "/sandbox/amc/reporting/amc1alal2aa/workflows"),
        ("PUT", "/sandbox/amc/reporting/amc1alal2aa/workflows/wf_1"),
        ("GET", "/sandbox/amc/reporting/amc1alal2aa/workflows/wf_1"),
        ("DELETE", "/sandbox/amc/reporting/amc1alal2aa/workflows/wf_1"),
    ]
    assert server.body(0) == {
        "workflowId": "wf_1",
        "sqlQuery": "SELECT 1",
        "inputParameters": parameters,
        "inputSchema": "s",
    }
    assert server.body(1) == {"workflowId": "wf_1", "sqlQuery": "SELECT 2"}
    assert (workflow.workflow_id, workflow.sql_query) == ("wf_1", "SELECT 1")


def test_adhoc_execution_sends_the_query_inside_workflow_with_zoneless_times():
    server = Server(EXECUTION)
    client, _ = make_client(server)
    window = TimeWindow(
        start=datetime(2025, 7, 15, 4, 0, tzinfo=UTC),
        end=datetime(2025, 7, 22, 4, 0, tzinfo=UTC),
        time_zone="America/New_York",
    )

    execution = client.create_adhoc_execution(
        INSTANCE,
        "SELECT COUNT(user_id) FROM dsp_impressions",
        input_parameters=[{"name": "p", "dataType": "STRING"}],
        workflow_extra={"filteredMetricsDiscriminatorColumn": "filtered"},
        window=window,
        parameter_values={"p": "v"},
        timeout_seconds=3600,
        extra={"requireSyntheticData": True},
    )

    body = server.body()
    assert server.requests[0].method == "POST"
    assert server.requests[0].url.path == "/sandbox/amc/reporting/amc1alal2aa/workflowExecutions"
    assert body == {
        "workflow": {
            "sqlQuery": "SELECT COUNT(user_id) FROM dsp_impressions",
            "inputParameters": [{"name": "p", "dataType": "STRING"}],
            "filteredMetricsDiscriminatorColumn": "filtered",
        },
        "timeWindowType": "EXPLICIT",
        "timeWindowStart": "2025-07-15T00:00:00",
        "timeWindowEnd": "2025-07-22T00:00:00",
        "timeWindowTimeZone": "America/New_York",
        "parameterValues": {"p": "v"},
        "workflowExecutionTimeoutSeconds": 3600,
        "requireSyntheticData": True,
    }
    assert "workflowId" not in body
    assert execution.execution_id == EXEC_ID and execution.status == "RUNNING"


def test_saved_execution_sends_workflow_id_and_no_query():
    server = Server({"workflowExecution": {**EXECUTION, "status": "PENDING"}})
    client, _ = make_client(server)

    execution = client.create_saved_execution(
        INSTANCE, "wf_4c384646", window=TimeWindow("MOST_RECENT_WEEK"), dry_run=True
    )

    assert server.body() == {
        "workflowId": "wf_4c384646",
        "timeWindowType": "MOST_RECENT_WEEK",
        "dryRun": True,
    }
    assert execution.status == "PENDING" and not execution.is_terminal


def test_time_window_checks_its_shape():
    with pytest.raises(ValueError, match="both start and end"):
        TimeWindow(start=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="takes no start"):
        TimeWindow("MOST_RECENT_DAY", start=datetime(2025, 1, 1))
    with pytest.raises(ValueError, match="Unknown time window type"):
        TimeWindow("LAST_FORTNIGHT")
    with pytest.raises(ValueError, match="Unknown time zone"):
        TimeWindow("ALL", time_zone="Nowhere/Special")


@pytest.mark.parametrize("wrapped", [False, True])
def test_execution_is_read_from_wrapped_and_flat_bodies(wrapped):
    body = {"workflowExecution": {**EXECUTION, "status": "FAILED", "statusReason": "too many users"}}
    server = Server(body if wrapped else body["workflowExecution"])
    client, _ = make_client(server)

    execution = client.get_execution(INSTANCE, EXEC_ID)

    assert execution.execution_id == EXEC_ID
    assert execution.workflow_id == "wf_4c384646"
    assert (execution.status, execution.status_reason, execution.is_terminal) == (
        "FAILED",
        "too many users",
        True,
    )
    assert execution.create_time == datetime(2023, 8, 16, 4, 12, 53, tzinfo=UTC)
    assert execution.last_updated_time == datetime(2023, 8, 16, 4, 13, 10, 250_000, tzinfo=UTC)
    assert execution.time_window_start == datetime(2022, 9, 20, 4, tzinfo=UTC)
    assert execution.raw["statusReason"] == "too many users"


@pytest.mark.parametrize("wrapped", [False, True])
def test_workflow_and_data_source_are_read_wrapped_or_flat(wrapped):
    workflow = {"workflowId": "wf_1", "sqlQuery": "SELECT 1", "inputParameters": [{"name": "p"}]}
    source = {"dataSourceId": "dsp_impressions", "description": "d", "columns": [{"name": "user_id"}]}
    server = Server({"workflow": workflow} if wrapped else workflow, {"dataSource": source} if wrapped else source)
    client, _ = make_client(server)

    assert client.get_workflow(INSTANCE, "wf_1").input_parameters == [{"name": "p"}]
    data_source = client.get_data_source(INSTANCE, "dsp_impressions")
    assert (data_source.data_source_id, data_source.columns) == ("dsp_impressions", [{"name": "user_id"}])


def test_list_executions_follows_next_token_across_three_pages():
    pages = [
        {"executions": [{**EXECUTION, "workflowExecutionId": "e1"}], "nextToken": "t1"},
        {"executions": [{**EXECUTION, "workflowExecutionId": "e2"}], "nextToken": "t2"},
        {"executions": [{**EXECUTION, "workflowExecutionId": "e3"}], "nextToken": ""},
    ]
    server = Server(*pages)
    client, _ = make_client(server)

    executions = client.list_executions(
        INSTANCE,
        min_creation_time=datetime(2025, 7, 1, tzinfo=UTC),
        workflow_id="wf_4c384646",
        include_cancelled=True,
    )

    assert [e.execution_id for e in executions] == ["e1", "e2", "e3"]
    queries = [server.query(i) for i in range(3)]
    assert [q.get("nextToken") for q in queries] == [None, "t1", "t2"]
    for query in queries:
        assert query["minCreationTime"] == "2025-07-01T00:00:00"
        assert query["workflowId"] == "wf_4c384646"
        assert query["includeCancelled"] == "true"


def test_list_executions_needs_a_filter():
    server = Server()
    client, _ = make_client(server)
    with pytest.raises(ValueError, match="min_creation_time or workflow_id"):
        client.list_executions(INSTANCE)
    assert server.requests == []


def test_other_lists_follow_pages_too():
    server = Server(
        {"workflows": [{"workflowId": "a"}], "nextToken": "n"},
        {"workflows": [{"workflowId": "b"}]},
        {"dataSources": [{"dataSourceId": "x"}], "nextToken": "n"},
        {"dataSources": [{"dataSourceId": "y"}], "nextToken": None},
    )
    client, _ = make_client(server)
    assert [w.workflow_id for w in client.list_workflows(INSTANCE)] == ["a", "b"]
    assert [d.data_source_id for d in client.list_data_sources(INSTANCE)] == ["x", "y"]
    assert server.query(3) == {"nextToken": "n"}


def test_a_repeated_page_token_stops_the_listing():
    server = Server({"workflows": [], "nextToken": "same"}, {"workflows": [], "nextToken": "same"})
    client, _ = make_client(server)
    with pytest.raises(AMCResponseError, match="repeated a page token"):
        client.list_workflows(INSTANCE)


def test_cancel_puts_status_cancelled():
    server = Server({})
    client, _ = make_client(server)
    client.cancel_execution(INSTANCE, EXEC_ID)
    assert server.requests[0].method == "PUT"
    assert server.requests[0].url.path.endswith(f"/workflowExecutions/{EXEC_ID}")
    assert server.body() == {"status": "CANCELLED"}


def test_download_urls():
    server = Server({"downloadUrls": ["https://s3/a.csv", "https://s3/b.csv"], "metadataDownloadUrls": []})
    client, _ = make_client(server)
    links = client.get_download_urls(INSTANCE, EXEC_ID)
    assert server.requests[0].url.path.endswith(f"/workflowExecutions/{EXEC_ID}/downloadUrls")
    assert links.urls == ("https://s3/a.csv", "https://s3/b.csv")
    assert links.metadata_urls == ()


def test_download_urls_not_ready_is_not_found():
    server = Server(error(404, f"Execution with ID {EXEC_ID} is unavailable for download."))
    client, sleep = make_client(server)
    with pytest.raises(AMCNotFoundError, match="unavailable for download"):
        client.get_download_urls(INSTANCE, EXEC_ID)
    assert sleep.delays == []


# Error mapping


@pytest.mark.parametrize(
    ("response", "error_class"),
    [
        (error(403, "Unauthorized request."), AMCForbiddenError),
        (error(404, "Not found"), AMCNotFoundError),
        (error(410, "Gone"), AMCNotFoundError),
        (error(400, "Workflow execution with ID xyz does not exist."), AMCNotFoundError),
        (error(400, "timeWindowStart must not have a zone"), AMCValidationError),
        (error(422, "You have reached your execution limit"), AMCQuotaError),
        (error(429, "Too Many Requests", {"Retry-After": "2"}), AMCThrottledError),
        (error(500, "Internal failure"), AMCServerError),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), AMCServerError),
        (httpx.Response(503, json={"message": "Service Unavailable"}), AMCServerError),
        (httpx.Response(504, json={"message": "Endpoint request timed out"}), AMCServerError),
        (error(415, "Unsupported media type"), AMCError),
    ],
)
def test_status_codes_map_to_typed_errors(response, error_class):
    server = Server(response)
    client, _ = make_client(server, max_attempts=1)
    with pytest.raises(error_class) as caught:
        client.get_execution(INSTANCE, EXEC_ID)
    assert type(caught.value) is error_class
    assert caught.value.status_code == response.status_code
    assert f"({response.status_code})" in str(caught.value) or "compile" in str(caught.value)


def test_error_carries_code_details_request_id_and_server_text():
    response = error(403, "Unauthorized request.", {"x-amzn-RequestId": "req-123"})
    client, _ = make_client(Server(response))
    with pytest.raises(AMCForbiddenError) as caught:
        client.get_instance(INSTANCE)
    err = caught.value
    assert (err.code, err.request_id) == ("403", "req-123")
    assert err.details == {"code": "403", "details": "Unauthorized request."}
    assert "Unauthorized request." in err.message and "entity" in err.message
    assert not err.transient


def test_accounts_error_shape_message_and_request_id():
    response = httpx.Response(500, json={"message": "Boom", "requestId": "r-9"})
    client, _ = make_client(Server(response), max_attempts=1)
    with pytest.raises(AMCServerError) as caught:
        client.list_accounts()
    assert caught.value.request_id == "r-9"
    assert "Boom" in str(caught.value) and caught.value.transient


def test_compile_error_with_range_is_parsed():
    details = (
        "Was unable to compile workflow wf_1 because it was found to be invalid: "
        "From line 6, column 12 to line 6, column 17: Number of columns must match number of query columns"
    )
    client, sleep = make_client(Server(error(400, details)))
    with pytest.raises(AMCValidationError) as caught:
        client.create_workflow(INSTANCE, "wf_1", "SELECT ...")
    err = caught.value
    assert (err.line, err.column, err.end_line, err.end_column) == (6, 12, 6, 17)
    assert err.compile_message == "Number of columns must match number of query columns"
    assert "line 6, column 12 to line 6, column 17" in err.message
    assert err.details["details"] == details
    assert sleep.delays == []


def test_compile_error_with_a_single_point_is_parsed():
    client, _ = make_client(Server(error(400, "At line 2, column 8: Object 'dsp_imps' not found")))
    with pytest.raises(AMCValidationError) as caught:
        client.create_adhoc_execution(INSTANCE, "SELECT ...")
    err = caught.value
    assert (err.line, err.column, err.end_line, err.end_column) == (2, 8, None, None)
    assert err.compile_message == "Object 'dsp_imps' not found"


def test_compile_error_without_position_keeps_the_compiler_text():
    details = (
        "Was unable to compile workflow wf_9fbfce61 because it was found to be invalid: Filter operation "
        "filter_operation referenced an undeclared parameter ad_product_type."
    )
    client, _ = make_client(Server(error(400, details)))
    with pytest.raises(AMCValidationError) as caught:
        client.create_workflow(INSTANCE, "wf_9fbfce61", "SELECT ...")
    err = caught.value
    assert err.line is None
    assert err.compile_message.startswith("Filter operation filter_operation referenced an undeclared")
    assert str(err).startswith("AMC could not compile the query")


def test_compile_error_that_says_does_not_exist_stays_a_validation_error():
    details = "From line 1, column 15 to line 1, column 20: Table 'nope' does not exist"
    client, _ = make_client(Server(error(400, details)))
    with pytest.raises(AMCValidationError) as caught:
        client.create_adhoc_execution(INSTANCE, "SELECT x FROM nope")
    assert caught.value.line == 1


@pytest.mark.parametrize(
    "body",
    [
        {
            "code": "400",
            "details": [{"message": "Unknown column 'foo'", "line": 3, "column": 5, "endLine": 3, "endColumn": 8}],
        },
        {
            "code": "400",
            "details": {
                "message": "Unknown column 'foo'",
                "line": "3",
                "column": "5",
                "endLine": 3,
                "endColumn": 8,
            },
        },
        {
            "code": "400",
            "errors": [{"message": "From line 3, column 5 to line 3, column 8: Unknown column 'foo'"}],
        },
    ],
)
def test_compile_error_with_structured_details(body):
    client, _ = make_client(Server(httpx.Response(400, json=body)))
    with pytest.raises(AMCValidationError) as caught:
        client.create_adhoc_execution(INSTANCE, "SELECT foo FROM t")
    err = caught.value
    assert (err.line, err.column, err.end_line, err.end_column) == (3, 5, 3, 8)
    assert err.compile_message == "Unknown column 'foo'"
    assert "Unknown column 'foo'" in str(err)


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>login page</html>"),
        httpx.Response(200, json=["not", "an", "object"]),
        httpx.Response(200, json={"status": "RUNNING"}),
        httpx.Response(200, json={**EXECUTION, "createTime": "last tuesday"}),
    ],
)
def test_unreadable_success_bodies_raise_response_error(response):
    client, sleep = make_client(Server(response))
    with pytest.raises(AMCResponseError) as caught:
        client.get_execution(INSTANCE, EXEC_ID)
    assert caught.value.status_code == 200
    assert sleep.delays == []


def test_list_without_its_key_is_a_response_error():
    client, _ = make_client(Server({"items": []}))
    with pytest.raises(AMCResponseError, match="'executions'"):
        client.list_executions(INSTANCE, workflow_id="wf_1")


def test_download_response_without_urls_is_a_response_error():
    client, _ = make_client(Server({}))
    with pytest.raises(AMCResponseError, match="downloadUrls"):
        client.get_download_urls(INSTANCE, EXEC_ID)


# Retries


def test_server_errors_are_retried_with_exponential_backoff_and_jitter():
    server = Server(error(503, "busy"), error(500, "oops"), error(502, "bad gateway"), EXECUTION)
    client, sleep = make_client(server, rng_value=0.5)

    execution = client.get_execution(INSTANCE, EXEC_ID)

    assert execution.execution_id == EXEC_ID
    assert len(server.requests) == 4
    # Steps 0.5, 1, 2 seconds; equal jitter with random()=0.5 waits three quarters of each step.
    assert sleep.delays == pytest.approx([0.375, 0.75, 1.5])


@pytest.mark.parametrize(("rng_value", "share"), [(0.0, 0.5), (0.999999, 1.0)])
def test_jitter_stays_between_half_and_all_of_the_step(rng_value, share):
    server = Server(error(500, "x"), error(500, "x"), EXECUTION)
    client, sleep = make_client(server, rng_value=rng_value, backoff_base=2.0)
    client.get_execution(INSTANCE, EXEC_ID)
    assert sleep.delays == pytest.approx([2.0 * share, 4.0 * share], rel=1e-5)


def test_attempts_are_bounded():
    server = Server(*[error(504, "timeout")] * 4)
    client, sleep = make_client(server)
    with pytest.raises(AMCServerError):
        client.get_execution(INSTANCE, EXEC_ID)
    assert len(server.requests) == 4
    assert len(sleep.delays) == 3


def test_delay_is_capped():
    server = Server(*[error(500, "x")] * 6)
    client, sleep = make_client(server, max_attempts=6, max_delay=1.0, rng_value=0.999999)
    with pytest.raises(AMCServerError):
        client.get_execution(INSTANCE, EXEC_ID)
    assert max(sleep.delays) <= 1.0
    assert sleep.delays[-1] == pytest.approx(1.0, rel=1e-5)


def test_retry_after_is_honoured_when_longer_than_the_backoff():
    server = Server(error(429, "slow down", {"Retry-After": "7"}), EXECUTION)
    client, sleep = make_client(server, max_delay=30.0)
    client.get_execution(INSTANCE, EXEC_ID)
    assert sleep.delays == [7.0]


def test_backoff_wins_when_retry_after_is_shorter():
    server = Server(error(503, "x"), error(429, "x", {"Retry-After": "0"}), EXECUTION)
    client, sleep = make_client(server, rng_value=0.5)
    client.get_execution(INSTANCE, EXEC_ID)
    assert sleep.delays == pytest.approx([0.375, 0.75])


def test_retry_after_beyond_the_cap_is_left_to_the_caller():
    server = Server(error(429, "slow down", {"Retry-After": "120"}))
    client, sleep = make_client(server, max_delay=30.0)
    with pytest.raises(AMCThrottledError) as caught:
        client.get_execution(INSTANCE, EXEC_ID)
    assert caught.value.retry_after == 120.0
    assert "120 seconds" in str(caught.value)
    assert sleep.delays == [] and len(server.requests) == 1


@pytest.mark.parametrize(
    "response",
    [
        error(400, "bad request"),
        error(400, "From line 1, column 1 to line 1, column 2: nope"),
        error(403, "Unauthorized request."),
        error(404, "missing"),
        error(422, "limit"),
    ],
)
def test_client_errors_are_never_retried(response):
    server = Server(response, EXECUTION)
    client, sleep = make_client(server)
    with pytest.raises(AMCError):
        client.get_execution(INSTANCE, EXEC_ID)
    assert len(server.requests) == 1
    assert sleep.delays == []


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [(httpx.ReadTimeout, AMCTimeoutError), (httpx.ConnectError, AMCConnectionError)],
)
def test_transport_failures_are_retried_then_typed(failure, error_class):
    server = Server(failure, EXECUTION)
    client, sleep = make_client(server)
    assert client.get_execution(INSTANCE, EXEC_ID).execution_id == EXEC_ID
    assert len(sleep.delays) == 1

    server = Server(*[failure] * 4)
    client, _ = make_client(server)
    with pytest.raises(error_class) as caught:
        client.get_execution(INSTANCE, EXEC_ID)
    assert caught.value.status_code is None and caught.value.transient
    assert "127.0.0.1" in str(caught.value) or "seconds" in str(caught.value)


@pytest.mark.parametrize(
    ("failure", "error_class"),
    [
        (httpx.ReadTimeout, AMCTimeoutError),
        (error(500, "x"), AMCServerError),
        (error(504, "x"), AMCServerError),
    ],
)
def test_creating_an_execution_is_not_retried_when_amc_may_have_acted(failure, error_class):
    server = Server(failure, EXECUTION)
    client, sleep = make_client(server)
    with pytest.raises(error_class):
        client.create_saved_execution(INSTANCE, "wf_1")
    assert len(server.requests) == 1 and sleep.delays == []


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, error(429, "x")])
def test_creating_an_execution_is_retried_when_amc_cannot_have_acted(failure):
    server = Server(failure, EXECUTION)
    client, sleep = make_client(server)
    assert client.create_saved_execution(INSTANCE, "wf_1").execution_id == EXEC_ID
    assert len(server.requests) == 2 and len(sleep.delays) == 1


# 401 handling


def test_a_401_refreshes_the_token_once_and_retries():
    tokens = RefreshingTokens()
    server = Server(error(401, "Unauthorized"), EXECUTION)
    client, sleep = make_client(server, tokens=tokens)

    client.get_execution(INSTANCE, EXEC_ID)

    assert tokens.refreshes == 1
    assert [r.headers["Authorization"] for r in server.requests] == [
        f"Bearer {TOKEN}",
        "Bearer Atza|refreshed-1",
    ]
    assert sleep.delays == []


def test_a_second_401_raises_auth_error():
    tokens = RefreshingTokens()
    server = Server(error(401, "Unauthorized"), error(401, "Unauthorized"), EXECUTION)
    client, _ = make_client(server, tokens=tokens)

    with pytest.raises(AMCAuthError) as caught:
        client.get_execution(INSTANCE, EXEC_ID)

    assert tokens.refreshes == 1
    assert len(server.requests) == 2
    assert str(caught.value).startswith("AMC rejected the access token (401)")


def test_a_401_on_create_is_retried_once_with_the_new_token():
    tokens = RefreshingTokens()
    server = Server(error(401, "Unauthorized"), EXECUTION)
    client, _ = make_client(server, tokens=tokens)
    client.create_adhoc_execution(INSTANCE, "SELECT 1")
    assert server.body(0) == server.body(1)
    assert server.requests[1].headers["Authorization"] == "Bearer Atza|refreshed-1"
