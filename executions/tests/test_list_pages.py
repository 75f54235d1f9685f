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
