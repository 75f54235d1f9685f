"""Reading stored results: pages, clamping, sorting by type, refusing unknown sort columns, summaries."""

import csv
import io

import httpx
import pytest

from executions.models import Execution
from executions.results import sidecar_name
from executions.results.ingest import store_result
from executions.results.reader import InvalidSortError, ResultReadError, column_summary, read_page

pytestmark = pytest.mark.django_db

ROWS = 120


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def source_rows() -> list[list[str]]:
    """Deterministic rows whose text order differs from their numeric order, with some empty cells."""
    rows = []
    for i in range(ROWS):
        clicks = "" if i % 17 == 0 else str((i * 37) % 101)  # 5 sorts after 40 as text
        spend = f"{(i * 13) % 50 / 4:.2f}"
        rows.append([f"Campaign {chr(65 + i % 26)}{i}", clicks, spend, f"2024-02-{i % 28 + 1:02d}", str(i % 3 == 0)])
    return rows


@pytest.fixture
def result(user, make_instance):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["campaign", "clicks", "spend", "day", "active"])
    writer.writerows(source_rows())
    body = buffer.getvalue().encode()
    client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(200, content=body)))
    execution = Execution.objects.create(owner=user, instance=make_instance(user))
    return store_result(execution, ["https://results.example.com/r.csv"], http=client)


def typed(row: list[str]) -> list:
    campaign, clicks, spend, day, active = row
    return [campaign, int(clicks) if clicks else None, float(spend), day, active == "True"]


def test_pages_follow_file_order(result):
    first = read_page(result, page=1, page_size=50)
    last = read_page(result, page=3, page_size=50)

    expected = [typed(r) for r in source_rows()]
    assert [c["name"] for c in first.columns] == ["campaign", "clicks", "spend", "day", "active"]
    assert first.rows == expected[:50]
    assert (first.total_rows, first.page_count, first.has_previous, first.has_next) == (ROWS, 3, False, True)
    assert last.rows == expected[100:]
    assert (last.page, last.has_next, last.first_row_number) == (3, False, 101)


@pytest.mark.parametrize(("asked", "shown"), [(99, 3), (0, 1), (-5, 1)])
def test_out_of_range_pages_are_clamped(result, asked, shown):
    page = read_page(result, page=asked, page_size=50)

    assert page.page == shown
    assert page.rows == read_page(result, page=shown, page_size=50).rows


def all_sorted(result, column, descending=False):
    pages = [read_page(result, page=p, page_size=40, sort=column, descending=descending) for p in (1, 2, 3)]
    return [row for page in pages for row in page.rows]


def test_integer_column_sorts_numerically_with_nulls_last(result):
    rows = all_sorted(result, "clicks")

    clicks = [r[1] for r in rows]
    present = [c for c in clicks if c is not None]
    assert present == sorted(present)
    assert clicks[len(present) :] == [None] * (ROWS - len(present))
    assert len(present) < ROWS  # the data has nulls to place


def test_descending_sort_keeps_file_order_for_ties(result):
    rows = all_sorted(result, "spend", descending=True)

    expected = sorted((typed(r) for r in source_rows()), key=lambda r: -r[2])  # stable: ties in file order
    assert rows == expected


def test_text_sort(result):
    rows = all_sorted(result, "campaign")

    assert [r[0] for r in rows] == sorted(r[0] for r in source_rows())


def test_sorted_page_reports_its_sort(result):
    page = read_page(result, page=2, page_size=10, sort="day", descending=True)

    assert (page.sort, page.descending, page.page) == ("day", True, 2)
    days = [r[3] for r in all_sorted(result, "day", descending=True)]
    assert [r[3] for r in page.rows] == days[10:20]
    assert days == sorted(days, reverse=True)


@pytest.mark.parametrize("sort", ["clicks; DROP TABLE executions_execution", "c0", "1", "clicks DESC", ""])
def test_unknown_sort_columns_are_refused(result, sort):
    with pytest.raises(InvalidSortError) as caught:
        read_page(result, page=1, sort=sort)
    assert isinstance(caught.value, ResultReadError)  # what views catch
    assert "no such column" in str(caught.value)


def test_parquet_copy_is_rebuilt_when_missing(result):
    storage = result.file.storage
    storage.delete(sidecar_name(result.file.name))

    page = read_page(result, page=1, page_size=5, sort="clicks", descending=True)

    assert storage.exists(sidecar_name(result.file.name))
    assert [r[1] for r in page.rows] == sorted((typed(r)[1] or -1 for r in source_rows()), reverse=True)[:5]


def test_column_summary(result):
    summary = {s.name: s for s in column_summary(result)}

    typed_rows = [typed(r) for r in source_rows()]
    clicks = [r[1] for r in typed_rows if r[1] is not None]
    assert summary["clicks"].type == "integer"
    assert summary["clicks"].nulls == ROWS - len(clicks)
    assert (summary["clicks"].min, summary["clicks"].max) == (min(clicks), max(clicks))
    assert summary["spend"].max == max(r[2] for r in typed_rows)
    assert str(summary["day"].min) == min(r[3] for r in typed_rows)
    assert summary["campaign"].min is None and summary["campaign"].nulls == 0
    assert summary["active"].distinct == 2
