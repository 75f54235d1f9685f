"""The executions list's keyset pages, capped count and indexed search (executions/listing.py)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from executions.listing import COUNT_CAP, PAGE_SIZE, filtered_executions, keyset_page
from executions.models import Execution

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)


def add(owner, instance, n, *, workflow=None, status="succeeded", prefix="exec_t", same_time_every=1):
    """`n` executions, one a minute back from NOW; `same_time_every` > 1 gives runs of equal created_at."""
    created = Execution.objects.bulk_create(
        Execution(owner=owner, instance=instance, workflow=workflow, status=status, execution_id=f"{prefix}{i:08d}")
        for i in range(n)
    )
    for i, execution in enumerate(created):
        execution.created_at = NOW - timedelta(minutes=i // same_time_every)
    Execution.objects.bulk_update(created, ["created_at"])
    return created


def newest_first(user):
    return list(Execution.objects.filter(owner=user).order_by("-created_at", "-pk").values_list("pk", flat=True))


def walk(qs, direction="older", start=None):
    seen, cursor = [], start
    while True:
        page = keyset_page(qs, **({direction: cursor} if cursor else {}))
        seen.append([e.pk for e in page])
        cursor = getattr(page, direction)
        if not cursor:
            return seen


def test_older_pages_show_every_execution_once_in_order_even_with_equal_times(user, make_instance):
    add(user, make_instance(user), 237, same_time_every=7)  # ties straddle page boundaries
    qs = filtered_executions(user, {}).executions
    pages = walk(qs)
    assert [len(p) for p in pages] == [50, 50, 50, 50, 37]
    assert [pk for page in pages for pk in page] == newest_first(user)


def test_newer_cursor_walks_back_to_the_first_page(user, make_instance):
    add(user, make_instance(user), 180, same_time_every=3)
    qs = filtered_executions(user, {}).executions
    forward = walk(qs)
    last = keyset_page(qs, older=keyset_page(qs, older=keyset_page(qs, older=keyset_page(qs).older).older).older)
    assert [e.pk for e in last] == forward[-1] and last.older is None
    back = walk(qs, "newer", last.newer)
    assert back == forward[-2::-1]
    assert keyset_page(qs, newer=last.newer).is_first is False
    assert keyset_page(qs, newer=keyset_page(qs, older=keyset_page(qs).older).newer).is_first is True


def test_count_is_capped_and_shown_as_1000_plus(user, make_instance, client):
    instance = make_instance(user)
    add(user, instance, COUNT_CAP)
    client.force_login(user)
    assert b"1,000 in all" in client.get(reverse("execution_list")).content
    add(user, instance, 5, prefix="exec_u")
    page = client.get(reverse("execution_list")).content
    assert b"1,000+ in all" in page and page.count(b"badge status-") == PAGE_SIZE


def test_filters_and_owner_scoping_hold_on_every_page(user, other_user, make_instance, make_workflow, client):
    mine, theirs = make_instance(user), make_instance(other_user, instance_id="amcother1", entity_id="E2")
    add(user, mine, 60, status="failed", prefix="exec_f")
    add(user, mine, 60, status="succeeded", prefix="exec_s")
    add(other_user, theirs, 80, status="failed", prefix="exec_o")
    qs = filtered_executions(user, {"status": "failed"}).executions
    pages = walk(qs)
    ids = {pk for page in pages for pk in page}
    assert len(ids) == 60 and set(Execution.objects.filter(pk__in=ids).values_list("status", "owner")) == {
        ("failed", user.pk)
    }
    client.force_login(user)
    first = client.get(reverse("execution_list"), {"status": "failed"}).content.decode()
    older = re.search(r'href="\?([^"]*older=[^"]+)"', first).group(1).replace("&amp;", "&")
    assert "status=failed" in older
    second = client.get(reverse("execution_list") + "?" + older).content.decode()
    assert second.count("badge status-failed") == 10 and "exec_o" not in second and "exec_s" not in second


def test_search_matches_ids_and_query_names_of_the_owner_only(user, other_user, make_instance, make_workflow):
    instance = make_instance(user)
    weekly = make_workflow(user, name="Weekly reach")
    add(user, instance, 30, prefix="exec_a")
    add(user, instance, 4, workflow=weekly, prefix="exec_w")
    theirs = make_workflow(other_user, name="Weekly reach")
    add(other_user, make_instance(other_user, instance_id="amcother1", entity_id="E2"), 3, workflow=theirs,
        prefix="exec_x")  # fmt: skip
    by_name = keyset_page(filtered_executions(user, {"q": "weekly"}).executions)
    assert sorted(e.execution_id for e in by_name) == [f"exec_w{i:08d}" for i in range(4)]
    by_id = keyset_page(filtered_executions(user, {"q": "a00000012"}).executions)
    assert [e.execution_id for e in by_id] == ["exec_a00000012"]
    assert by_id.count == 1


def test_queries_per_page_do_not_grow_with_depth(user, make_instance, client):
    add(user, make_instance(user), 400)
    client.force_login(user)
    with CaptureQueriesContext(connection) as first:
        page = client.get(reverse("execution_list")).content.decode()
    cursor = re.search(r"older=([0-9.]+)", page).group(1)
    for _ in range(5):
        with CaptureQueriesContext(connection) as deep:
            page = client.get(reverse("execution_list"), {"older": cursor}).content.decode()
        cursor = re.search(r"older=([0-9.]+)", page).group(1)
    assert len(deep) == len(first)
    assert not any("OFFSET" in q["sql"] for q in deep.captured_queries)


def test_a_malformed_cursor_shows_the_first_page(user, make_instance, client):
    add(user, make_instance(user), 3)
    client.force_login(user)
    response = client.get(reverse("execution_list"), {"older": "not-a-cursor"})
    assert response.status_code == 200 and response.content.count(b"badge status-") == 3


def test_the_search_is_served_by_the_trigram_index(user, make_instance):
    add(user, make_instance(user), 5000)
    qs = filtered_executions(user, {"q": "t00004242"}).executions
    page_sql, params = qs.order_by("-created_at", "-pk")[:PAGE_SIZE].query.sql_with_params()
    with connection.cursor() as cursor:
        # Autovacuum would merge the rows just inserted into the GIN indexes; do it now, as on a live table.
        cursor.execute("SELECT gin_clean_pending_list(%s::regclass), gin_clean_pending_list(%s::regclass)",
                       ["execution_id_trgm", "execution_amc_id_trgm"])  # fmt: skip
        cursor.execute("ANALYZE executions_execution")
        cursor.execute("EXPLAIN " + page_sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "execution_id_trgm" in plan and "execution_amc_id_trgm" in plan


def test_rows_show_what_the_execution_shows(user, make_instance, make_workflow):
    from django.template.defaultfilters import date as date_filter
    from django.utils import timezone

    from executions.list_rows import list_rows, shown_values
    from recomamp.display import window_sent, window_text

    instance, weekly = make_instance(user), make_workflow(user, name="Weekly <reach>")
    explicit, relative, adhoc = add(user, instance, 3, workflow=weekly)
    explicit.time_window_start, explicit.time_window_end = NOW - timedelta(days=8), NOW - timedelta(days=1)
    explicit.time_window_timezone = "America/New_York"
    explicit.request_body = {"timeWindowType": "EXPLICIT", "timeWindowStart": "2026-10-24T00:00:00",
                             "timeWindowEnd": "2026-10-31T00:00:00", "timeWindowTimeZone": "America/New_York",
                             "workflow": {"query": {"operations": "SELECT 1"}}}  # fmt: skip
    relative.time_window_type, relative.submitted_at = "PREVIOUS_MONTH", NOW
    relative.request_body = {"timeWindowType": "PREVIOUS_MONTH"}
    adhoc.workflow, adhoc.trigger, adhoc.status = None, "schedule", "failed"
    fields = ["time_window_start", "time_window_end", "time_window_timezone", "time_window_type", "submitted_at",
              "request_body", "workflow", "trigger", "status"]  # fmt: skip
    Execution.objects.bulk_update([explicit, relative, adhoc], fields)
    with timezone.override("Europe/Paris"):
        rows = {row["execution_id"]: row for row in shown_values(keyset_page(filtered_executions(user, {}).executions))}
        for execution in Execution.objects.select_related("workflow", "instance"):
            row = rows[execution.execution_id]
            assert row["url"] == reverse("execution_detail", args=[execution.execution_id])
            assert row["query"] == (execution.workflow.name if execution.workflow else "Ad hoc query")
            assert row["instance"] == execution.instance.name
            assert (row["status"], row["status_label"]) == (execution.status, execution.get_status_display())
            assert row["trigger_label"] == execution.get_trigger_display()
            assert (row["window"], row["window_sent"]) == (window_text(execution), window_sent(execution))
            assert row["created"] == date_filter(timezone.localtime(execution.created_at), "Y-m-d H:i")
    assert "timeWindowStart=2026-10-24T00:00:00" in rows[explicit.execution_id]["window_sent"]
    html = list_rows(keyset_page(filtered_executions(user, {}).executions))
    assert "<td>Weekly &lt;reach&gt;</td>" in html[0] and "<td>Ad hoc query</td>" in html[-1]


def test_the_search_count_adds_its_parts_once_each(user, make_instance, make_workflow, monkeypatch):
    instance, weekly = make_instance(user), make_workflow(user, name="Weekly reach")
    add(user, instance, 30, workflow=weekly, prefix="exec_weekly")  # its name and its id match: counted once
    add(user, instance, 40, workflow=weekly, prefix="exec_n")  # its name matches
    add(user, instance, 20, prefix="exec_xweekly")  # its id matches
    add(user, instance, 50, prefix="exec_z")  # nothing matches
    filtered = filtered_executions(user, {"q": "weekly"})
    assert len(filtered.parts) == 2
    page = keyset_page(filtered.executions, parts=filtered.parts)
    assert page.count == 90 == len({pk for rows in walk(filtered.executions) for pk in rows})
    monkeypatch.setattr("executions.listing.COUNT_CAP", 50)
    page = keyset_page(filtered.executions, parts=filtered.parts)
    assert (page.count, page.count_label) == (51, "50+")


def test_a_first_page_holding_every_match_is_its_own_count(user, make_instance, client):
    instance = make_instance(user)
    add(user, instance, PAGE_SIZE - 1, status="failed", prefix="exec_f")
    add(user, instance, PAGE_SIZE + 1, prefix="exec_s")
    client.force_login(user)
    with CaptureQueriesContext(connection) as one_page:
        response = client.get(reverse("execution_list"), {"status": "failed"})
    assert f"{PAGE_SIZE - 1} in all".encode() in response.content
    assert not any("COUNT(" in q["sql"] for q in one_page.captured_queries)
    with CaptureQueriesContext(connection) as more:
        response = client.get(reverse("execution_list"))
    assert f"{2 * PAGE_SIZE} in all".encode() in response.content
    assert sum("COUNT(" in q["sql"] for q in more.captured_queries) == 1


def test_the_instance_filter_costs_one_query_however_many_instances(user, make_instance, client):
    add(user, make_instance(user), 3)
    client.force_login(user)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("execution_list"))
    for i in range(4):
        make_instance(user, instance_id=f"amcmore{i}", entity_id=f"E{i}")
    with CaptureQueriesContext(connection) as five:
        page = client.get(reverse("execution_list")).content.decode()
    assert len(five) == len(one) and page.count("(amcmore") == 4
    assert not any("DECLARE" in q["sql"] for q in five.captured_queries)  # no server-side cursor round trips
