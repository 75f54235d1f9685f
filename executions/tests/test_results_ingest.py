"""Storing AMC result files: joining, header checks, record counting, type inference, errors, replacement, memory."""

import threading
import tracemalloc
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from executions.models import Execution, ExecutionResult
from executions.results import infer_types, sidecar_name
from executions.results.ingest import (
    ResultDownloadError,
    ResultFormatError,
    ResultHeaderMismatchError,
    ResultLinkExpiredError,
    store_result,
)

HEADER = b"campaign,day,impressions,spend\r\n"
PART_1 = HEADER + b"Brand,2024-01-01,100,1.50\r\nRetargeting,2024-01-02,250,2.25\r\n"
PART_2 = HEADER + b'"Holiday, ""big"" sale",2024-01-03,75,0.10\r\n'
PART_3 = HEADER + b"Prime,2024-01-04,5,3\r\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def execution(user, make_instance):
    return Execution.objects.create(owner=user, instance=make_instance(user))


def mock_client(files: dict[str, bytes | httpx.Response]) -> httpx.Client:
    """A client serving `files` by URL path; a value may be a ready response (errors)."""

    def handle(request: httpx.Request) -> httpx.Response:
        body = files[request.url.path]
        return body if isinstance(body, httpx.Response) else httpx.Response(200, content=body)

    return httpx.Client(transport=httpx.MockTransport(handle))


def urls(*paths: str) -> list[str]:
    return [f"https://results.example.com{path}?X-Amz-Signature=secret123" for path in paths]


def stored_bytes(result: ExecutionResult) -> bytes:
    with result.file.open("rb") as handle:
        return handle.read()


def media_files(settings) -> list[str]:
    root = settings.MEDIA_ROOT
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.mark.django_db
def test_files_are_joined_with_the_header_once(execution):
    client = mock_client({"/p1.csv": PART_1, "/p2.csv": PART_2, "/p3.csv": PART_3})

    result = store_result(execution, urls("/p1.csv", "/p2.csv", "/p3.csv"), http=client)

    expected = PART_1 + PART_2.removeprefix(HEADER) + PART_3.removeprefix(HEADER)
    assert stored_bytes(result) == expected
    assert result.row_count == 4
    assert result.size_bytes == len(expected)
    assert result.source_files == 3
    assert result.fetched_at is not None and result.fetch_seconds >= 0
    assert result.file.name == f"results/{execution.owner_id}/{execution.execution_id}.csv"
    assert result.columns == [
        {"name": "campaign", "type": "string"},
        {"name": "day", "type": "date"},
        {"name": "impressions", "type": "integer"},
        {"name": "spend", "type": "decimal"},
    ]


@pytest.mark.django_db
def test_real_http_download_of_several_files(execution):
    files = {"/p1.csv": PART_1, "/p2.csv": PART_2}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's naming)
            body = files[self.path.split("?")[0]]
            self.send_response(200)
            self.send_header("Content-Type", "text/csv")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        result = store_result(execution, [f"{base}/p1.csv?sig=a", f"{base}/p2.csv?sig=b"])
    finally:
        server.shutdown()
        server.server_close()
    assert stored_bytes(result) == PART_1 + PART_2.removeprefix(HEADER)
    assert result.row_count == 3


@pytest.mark.django_db
def test_mismatched_headers_are_rejected_and_nothing_is_stored(execution, settings):
    other = b"campaign,day,clicks,spend\r\nBrand,2024-01-01,1,2\r\n"
    client = mock_client({"/p1.csv": PART_1, "/p2.csv": other})

    with pytest.raises(ResultHeaderMismatchError) as caught:
        store_result(execution, urls("/p1.csv", "/p2.csv"), http=client)

    assert "result file 2 of 2" in str(caught.value) and "clicks" in str(caught.value)
    assert not ExecutionResult.objects.filter(execution=execution).exists()
    assert media_files(settings) == []


@pytest.mark.django_db
def test_quoted_newlines_stay_inside_their_record(execution):
    body = (
        b'\xef\xbb\xbf"note, with comma",n\r\n'
        b'"line one\r\nline two",1\r\n'
        b'"a\nb\nc",2\r\n'
        b"plain,3"  # no final line break
    )
    second = b'"note, with comma",n\r\n"x",4\r\n'
    client = mock_client({"/a.csv": body, "/b.csv": second})

    result = store_result(execution, urls("/a.csv", "/b.csv"), http=client)

    assert result.row_count == 4
    assert result.columns[0]["name"] == "note, with comma"  # BOM dropped, quoted header parsed
    assert stored_bytes(result).endswith(b'plain,3\r\n"x",4\r\n')


@pytest.mark.django_db
def test_blank_line_is_a_null_in_a_one_column_result(execution):
    client = mock_client({"/a.csv": b"campaign\r\nBrand\r\n\r\nPrime\r\n"})

    result = store_result(execution, urls("/a.csv"), http=client)

    assert result.row_count == 3


@pytest.mark.django_db
def test_header_only_file_is_an_empty_result(execution):
    client = mock_client({"/a.csv": b"campaign,reach"})

    result = store_result(execution, urls("/a.csv"), http=client)

    assert result.row_count == 0
    assert [c["type"] for c in result.columns] == ["string", "string"]
    assert stored_bytes(result) == b"campaign,reach\r\n"


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "-20", "+3"], "integer"),
        (["1", "2.5", "1e3"], "decimal"),
        (["true", "FALSE", ""], "boolean"),
        (["2024-01-01", "2024-12-31"], "date"),
        (["2024-01-01T10:00:00.000", "2024-01-02 11:30"], "timestamp"),
        (["2024-01-01", "2024-01-02T00:00:00.000"], "timestamp"),
        (["1", "true"], "string"),
        (["1", "abc"], "string"),
        (["", ""], "string"),
        (["1" * 39], "decimal"),  # too long for a 38-digit integer
    ],
)
def test_type_inference_promotes_sensibly(values, expected):
    assert infer_types(1, [[v] for v in values]) == [expected]


@pytest.mark.django_db
def test_types_are_checked_beyond_the_sample(execution):
    rows = [f"{i},2024-01-01,{i % 2 == 0}".lower() for i in range(1500)]
    rows[1200] = "12.5,2024-01-01,true"  # not an integer
    rows[1300] = "7,not a date,true"
    body = ("n,day,flag\r\n" + "\r\n".join(rows) + "\r\n").encode()
    client = mock_client({"/a.csv": body})

    result = store_result(execution, urls("/a.csv"), http=client)

    assert [c["type"] for c in result.columns] == ["decimal", "string", "boolean"]
    assert result.row_count == 1500


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("response", "error", "transient"),
    [
        (
            httpx.Response(403, text="<Error><Message>Request has expired</Message></Error>"),
            ResultLinkExpiredError,
            True,
        ),
        (httpx.Response(403, text="Access denied"), ResultLinkExpiredError, True),
        (httpx.Response(404, text="The specified key does not exist."), ResultDownloadError, False),
        (httpx.Response(503, text="Slow down"), ResultDownloadError, True),
    ],
)
def test_failed_download_raises_a_typed_error(execution, response, error, transient):
    client = mock_client({"/p1.csv": PART_1, "/p2.csv": response})

    with pytest.raises(error) as caught:
        store_result(execution, urls("/p1.csv", "/p2.csv"), http=client)

    assert caught.value.status_code == response.status_code
    assert caught.value.transient is transient
    assert "result file 2 of 2" in str(caught.value).lower()
    assert caught.value.url == "https://results.example.com/p2.csv"  # signature not kept
    assert "secret123" not in str(caught.value)


@pytest.mark.django_db
def test_network_failure_is_a_download_error(execution):
    def refuse(request):
        raise httpx.ConnectError("connection refused", request=request)

    client = httpx.Client(transport=httpx.MockTransport(refuse))

    with pytest.raises(ResultDownloadError) as caught:
        store_result(execution, urls("/p1.csv"), http=client)

    assert caught.value.transient and "ConnectError" in str(caught.value)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [b"", b"a,b\r\n1,2\r\n3\r\n", b"a,b\r\n\xff\xfe,1\r\n"],
    ids=["empty", "wrong-field-count", "not-utf8"],
)
def test_unreadable_files_raise_a_format_error(execution, body, settings):
    with pytest.raises(ResultFormatError):
        store_result(execution, urls("/a.csv"), http=mock_client({"/a.csv": body}))
    assert media_files(settings) == []


def test_no_urls_is_an_error():
    with pytest.raises(ResultFormatError):
        store_result(None, [])


@pytest.mark.django_db
def test_refetch_replaces_the_result_without_leaving_files(execution, settings, django_capture_on_commit_callbacks):
    client = mock_client({"/p1.csv": PART_1, "/p3.csv": PART_3})
    with django_capture_on_commit_callbacks(execute=True):
        first = store_result(execution, urls("/p1.csv"), http=client)
    with django_capture_on_commit_callbacks(execute=True):
        second = store_result(execution, urls("/p3.csv"), http=client)

    assert second.pk == first.pk
    assert ExecutionResult.objects.get(execution=execution).row_count == 1
    assert stored_bytes(second) == PART_3
    assert media_files(settings) == sorted([second.file.name, sidecar_name(second.file.name)])


@pytest.mark.django_db
def test_failed_refetch_keeps_the_previous_result(execution, settings, django_capture_on_commit_callbacks):
    client = mock_client({"/p1.csv": PART_1, "/gone.csv": httpx.Response(404)})
    with django_capture_on_commit_callbacks(execute=True):
        first = store_result(execution, urls("/p1.csv"), http=client)

    with pytest.raises(ResultDownloadError):
        store_result(execution, urls("/gone.csv"), http=client)

    kept = ExecutionResult.objects.get(execution=execution)
    assert kept.file.name == first.file.name and kept.row_count == 2
    assert stored_bytes(kept) == PART_1
    assert media_files(settings) == sorted([first.file.name, sidecar_name(first.file.name)])


def generated_csv(rows: int):
    """A large CSV produced chunk by chunk, so the test itself holds no big buffer."""
    yield b"campaign,day,impressions,spend,note\r\n"
    batch = []
    for i in range(rows):
        batch.append(f'c{i % 97},2024-01-{i % 28 + 1:02d},{i},{i / 7:.2f},"line\nbreak {i}"\r\n')
        if len(batch) == 2000:
            yield "".join(batch).encode()
            batch = []
    yield "".join(batch).encode()


def peak_while_storing(execution, rows: int) -> int:
    client = httpx.Client(
        transport=httpx.MockTransport(lambda request: httpx.Response(200, content=generated_csv(rows)))
    )
    tracemalloc.start()
    try:
        result = store_result(execution, urls("/big.csv"), http=client)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert result.row_count == rows
    return peak


@pytest.mark.django_db
@pytest.mark.slow
def test_memory_stays_flat_as_results_grow(execution):
    small = peak_while_storing(execution, 50_000)
    large = peak_while_storing(execution, 300_000)

    # Six times the rows (about 12 MB more data) must not raise the peak noticeably.
    assert large < small * 1.5 + 1_000_000
    assert large < 4_000_000  # the 300k-row file alone is about 14 MB
