"""Walk every URL pattern: anonymous users go to login, a second user gets 404 for the first user's objects,
every POST needs a CSRF token (htmx included), and user text is escaped everywhere."""

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from executions.models import Execution, ExecutionResult
from schedules.models import Schedule

pytestmark = pytest.mark.django_db

PUBLIC = {"login", "health", "dashboard_shared"}  # the only pages without login (the sandbox has its own token auth)
# dashboard_shared shows one dashboard to anyone holding its signed, expiring, revocable link (dashboards.sharing).
SKIPPED_NAMESPACES = {"admin"}  # Django's admin has its own staff checks, covered by the admin tests
XSS = '<script>alert("x")</script>'
# Build guides are shared content (like the library); what is per user on them is checked separately below.
SHARED_CONTENT = {
    "guide_detail", "guide_favourite", "guide_step", "guide_step_run", "guide_step_done", "guide_step_save",
}  # fmt: skip


def named_patterns(resolver=None, prefix="", namespace=""):
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in SKIPPED_NAMESPACES or str(entry.pattern).startswith("sandbox/"):
                continue
            yield from named_patterns(entry, prefix + str(entry.pattern), entry.namespace or namespace)
        elif isinstance(entry, URLPattern) and entry.name:
            yield entry.name, prefix + str(entry.pattern), entry


@pytest.fixture
def victim_objects(user, make_instance, make_workflow, make_guide, settings, tmp_path):
    """One object of every owned kind, belonging to `user`, with an XSS payload wherever text is free."""
    settings.MEDIA_ROOT = tmp_path
    instance = make_instance(user)
    instance.brands = [XSS]
    instance.save()
    workflow = make_workflow(
        user, name=XSS, sql=f"SELECT campaign, COUNT(*) AS n FROM dsp_impressions -- {XSS}\nGROUP BY campaign"
    )
    workflow.description, workflow.tags = XSS, [XSS]
    workflow.save()
    execution = Execution.objects.create(owner=user, instance=instance, workflow=workflow, status="succeeded",
                                         error_message=XSS, parameters_sent={"p": XSS})  # fmt: skip
    from django.core.files.base import ContentFile

    result = ExecutionResult(execution=execution, columns=[{"name": "campaign", "type": "string"}], row_count=1)
    quoted = XSS.replace('"', '""')
    result.file.save("r.csv", ContentFile(f'campaign\n"{quoted}"\n'.encode()))
    delivery = execution.snowflake_deliveries.create(table_name="t", status="failed", error=XSS)
    schedule = Schedule.objects.create(owner=user, workflow=workflow, instance=instance, name=XSS, description=XSS)
    schedule.runs.create(scheduled_for=datetime(2026, 1, 1, tzinfo=UTC), error=XSS)
    guide = make_guide(user, execution, text=XSS)
    from brands.models import Brand

    brand = Brand.objects.create(owner=user, name=XSS, description=XSS)
    brand.instances.add(instance)
    brand.asins.create(asin="B0AAAAAAA1", title=XSS, marketplace=XSS[:32])
    brand.campaigns.create(campaign_id="111", name=XSS, instance=instance)
    from runsets.models import RunSet

    run_set = RunSet.objects.create(owner=user, workflow=workflow, name=XSS, sql_snapshot=workflow.sql)
    run_set.cells.create(
        instance=instance, first_day=datetime(2026, 1, 1).date(), end_day=datetime(2026, 1, 8).date(),
        window_start=datetime(2026, 1, 1, tzinfo=UTC), window_end=datetime(2026, 1, 8, tzinfo=UTC),
        status="succeeded", execution=execution, error=XSS,
    )  # fmt: skip
    from dashboards.models import Dashboard
    from dashboards.sharing import create_link, token_for

    dashboard = Dashboard.objects.create(owner=user, name=XSS, run_set=run_set, metrics=["n"], dimension="campaign")
    link = create_link(dashboard)
    return {
        "brand_id": brand.pk,
        "slug": guide.slug,
        "number": 1,
        "pk": instance.pk,
        "workflow_id": workflow.workflow_id,
        "execution_id": execution.execution_id,
        "schedule_id": schedule.schedule_id,
        "fmt": "csv",
        "delivery_id": delivery.pk,
        "run_set_id": run_set.run_set_id,
        "dashboard_id": dashboard.dashboard_id,
        "index": 0,
        "link_id": link.pk,
        "token": token_for(link),
    }


def kwargs_for(pattern: URLPattern, objects: dict) -> dict | None:
    names = list(pattern.pattern.regex.groupindex)
    if not names:
        return {}
    if any(name not in objects for name in names):
        return None
    return {name: objects[name] for name in names}


def owned_urls(objects):
    from django.urls import reverse

    urls, unknown = [], []
    for name, route, pattern in named_patterns():
        kwargs = kwargs_for(pattern, objects)
        if kwargs is None:
            unknown.append(route)
            continue
        urls.append((name, reverse(name, kwargs=kwargs) if kwargs else reverse(name), bool(kwargs)))
    return urls, unknown


def test_every_url_parameter_is_known_to_this_sweep(victim_objects):
    _, unknown = owned_urls({**victim_objects, "schema_id": "x", "index": 0})
    assert unknown == [], "add these URL parameters to the sweep's fixtures"


def test_anonymous_users_are_redirected_to_login(client, victim_objects):
    urls, _ = owned_urls(victim_objects)
    for name, url, _ in urls:
        if name in PUBLIC:
            continue
        for method in (client.get, client.post):
            response = method(url)
            assert response.status_code in (302, 405), (name, url, response.status_code)
            if response.status_code == 302:
                assert response["Location"].startswith("/accounts/login/"), (name, url)


def test_a_second_user_gets_404_for_every_object_of_the_first(client, other_user, victim_objects):
    client.force_login(other_user)
    urls, _ = owned_urls(victim_objects)
    for name, url, has_object in urls:
        if not has_object or name in SHARED_CONTENT or name in PUBLIC:
            continue
        for method in (client.get, client.post):
            status = method(url).status_code
            assert status in (404, 405), (name, url, status)


def test_every_post_needs_a_csrf_token_htmx_included(user, victim_objects):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    urls, _ = owned_urls(victim_objects)
    for name, url, _ in urls:
        if name in PUBLIC:
            continue
        for extra in ({}, {"HTTP_HX_REQUEST": "true"}):
            status = csrf_client.post(url, {}, **extra).status_code
            assert status in (403, 405), (name, url, status)


def test_user_text_is_escaped_on_every_page(user_client, victim_objects):
    urls, _ = owned_urls(victim_objects)
    for name, url, _ in urls:
        response = user_client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        body = response.content.decode()
        assert XSS not in body, (name, url)


def test_pages_carry_a_content_security_policy_of_our_own_assets(user_client):
    from django.urls import reverse

    policy = user_client.get(reverse("home"))["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy and "http" not in policy.split("form-action")[0]


def test_snowflake_secrets_never_appear_in_admin(client, staff_user, user):
    from django.urls import reverse

    from executions.models import SnowflakeConfig

    config = SnowflakeConfig(owner=user, account="acme-x", user="loader", warehouse="WH", database="DB")
    config.password = "Sn0wfl@keSecret!"
    config.private_key = "-----BEGIN PRIVATE KEY-----TOPSECRETKEY"
    config.save()
    client.force_login(staff_user)
    for url in (
        reverse("admin:executions_snowflakeconfig_changelist"),
        reverse("admin:executions_snowflakeconfig_change", args=[config.pk]),
    ):
        body = client.get(url).content.decode()
        assert "Sn0wfl@keSecret!" not in body and "TOPSECRETKEY" not in body
        assert config.password_encrypted not in body


def test_a_second_user_sees_shared_guides_but_none_of_the_first_users_progress(client, other_user, victim_objects):
    from django.urls import reverse

    from guides.models import GuideFavourite, GuideProgress

    client.force_login(other_user)
    slug = victim_objects["slug"]
    for url in (reverse("guide_list"), reverse("guide_detail", args=[slug]), reverse("guide_step", args=[slug, 1])):
        body = client.get(url).content.decode()
        assert victim_objects["execution_id"] not in body and "Favourite</span>" not in body, url
        assert 'data-testid="step-done"' not in body and "1 done" not in body, url
    client.post(reverse("guide_step_done", args=[slug, 1]), {"done": "0"})
    client.post(reverse("guide_favourite", args=[slug]))
    mine = GuideProgress.objects.exclude(owner=other_user).get()
    assert mine.done_at is not None and mine.last_execution.execution_id == victim_objects["execution_id"]
    assert GuideFavourite.objects.filter(owner=other_user).count() == 1
    assert GuideFavourite.objects.exclude(owner=other_user).count() == 1


# Bad input: every URL pattern (the sandbox's too) with NUL bytes, oversize values and absurd dates and
# numbers in its path ids, query string and form fields must answer 4xx (or a normal page), never 5xx.
BAD_VALUES = ("x\x00", "\x00", "9" * 5_000, "x" * 250_000, "9999-12-31", "0001-01-01", "9999-12-31T23:00", "-1", "²",
              "SELECT " + "(" * 20_000)  # fmt: skip
PARAM_NAME = re.compile(r"""(?:GET|POST|data|params|source)\.get\(\s*["'](\w+)["']|\b(\w+)\s*=\s*forms\.\w+Field\(""")


def all_patterns(resolver=None, prefix=""):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace not in SKIPPED_NAMESPACES:
                yield from all_patterns(entry, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry


def parameter_names() -> list[str]:
    """Every name a view or form reads, found in the source, plus the run form's parameter fields."""
    names = {"param_start", "param_n", "param_ids", "check-instance", "sql", "q", "a", "b", "page", "redirect_uri"}
    for path in Path(__file__).resolve().parent.parent.glob("*/**/*.py"):
        if ".venv" in path.parts or "tests" in path.parts:
            continue
        for match in PARAM_NAME.finditer(path.read_text()):
            names.add(match.group(1) or match.group(2))
    return sorted(names)


def bad_urls(objects: dict):
    """Each pattern with real ids, then with each id replaced by a NUL byte or oversize text."""
    for route, pattern in all_patterns():
        names = list(pattern.pattern.regex.groupindex)
        for target, bad in [(None, None)] + [(name, bad) for name in names for bad in ("x%00", "%00", "x" * 1_500)]:
            values = {name: bad if name == target else str(objects.get(name, "x")) for name in names}
            yield "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m, values=values: values[m.group(1)], route)


def test_no_url_answers_5xx_to_bad_input(user, victim_objects):
    assert any(route.startswith("sandbox/") for route, _ in all_patterns()), "the sweep covers the sandbox's API too"
    client = Client(raise_request_exception=False)
    client.force_login(user)
    anonymous = Client(raise_request_exception=False)
    names = parameter_names()
    tried, failures = 0, []
    urls = list(bad_urls(victim_objects))
    for url in urls:
        for who in (client, anonymous):
            for bad in BAD_VALUES:
                for method in (who.get, who.post):
                    values = {name: bad for name in names} if len(bad) < 10_000 else {"q": bad, "sql": bad}
                    response = method(url, values)
                    tried += 1
                    if response.status_code >= 500:
                        failures.append((url, method.__name__, bad[:20], response.status_code))
    failures = [f for f in failures if f]
    print(f"URLs swept: {len(urls)}; requests: {tried}; parameter names: {len(names)}; 5xx: {len(failures)}")
    assert failures == []
