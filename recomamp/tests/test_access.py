"""Login is required everywhere but the login page; objects are visible to their owner only."""

from datetime import UTC, datetime

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from executions.models import Execution
from schedules.models import Schedule

pytestmark = pytest.mark.django_db


@pytest.fixture
def owned_objects(user, make_instance, make_workflow):
    instance = make_instance(user)
    workflow = make_workflow(user)
    execution = Execution.objects.create(owner=user, workflow=workflow, instance=instance)
    schedule = Schedule.objects.create(owner=user, workflow=workflow, instance=instance, name="Weekly")
    schedule.runs.create(scheduled_for=datetime(2026, 1, 1, tzinfo=UTC))
    return {
        "instance_detail": {"pk": instance.pk},
        "workflow_detail": {"workflow_id": workflow.workflow_id},
        "execution_detail": {"execution_id": execution.execution_id},
        "schedule_detail": {"schedule_id": schedule.schedule_id},
    }


PAGES = ["home", "instance_list", "data_source_list", "template_list", "workflow_list", "execution_list",
         "schedule_list", "profile"]  # fmt: skip


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_users_are_sent_to_login(client, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_object_pages_redirect_anonymous_users(client, owned_objects):
    for name, kwargs in owned_objects.items():
        response = client.get(reverse(name, kwargs=kwargs))
        assert response.status_code == 302, name


@pytest.mark.parametrize("name", PAGES)
def test_pages_render_for_a_signed_in_user(user_client, name):
    response = user_client.get(reverse(name))
    assert response.status_code == 200
    assert b"RecomAMP" in response.content


def test_owner_sees_their_objects(user_client, owned_objects):
    for name, kwargs in owned_objects.items():
        assert user_client.get(reverse(name, kwargs=kwargs)).status_code == 200, name


def test_other_users_get_404_for_every_object(client, other_user, owned_objects):
    client.force_login(other_user)
    for name, kwargs in owned_objects.items():
        assert client.get(reverse(name, kwargs=kwargs)).status_code == 404, name


def test_login_page_is_public_and_logs_in_with_email(client, user):
    assert client.get(reverse("login")).status_code == 200
    response = client.post(reverse("login"), {"username": "ANALYST@example.com", "password": "correct-horse-battery"})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_repeated_failed_logins_are_throttled(client, user):
    for _ in range(5):
        client.post(reverse("login"), {"username": user.email, "password": "wrong"})
    response = client.post(reverse("login"), {"username": user.email, "password": "correct-horse-battery"})
    assert response.status_code == 429
    assert b"Too many failed sign-in attempts" in response.content


def test_htmx_posts_need_the_csrf_token(user):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user)
    response = csrf_client.post(reverse("profile"), {"full_name": "X", "timezone": "UTC"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    page = csrf_client.get(reverse("profile")).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in page
    token = page.split('"X-CSRFToken": "')[1].split('"')[0]
    response = csrf_client.post(
        reverse("profile"), {"full_name": "X", "timezone": "UTC"}, HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=token
    )
    assert response.status_code == 302


def test_profile_rejects_unknown_timezone_with_a_field_error(user_client, user):
    response = user_client.post(reverse("profile"), {"full_name": "Ann", "timezone": "Mars/Olympus"})
    assert response.status_code == 200
    assert b"not a known IANA time zone" in response.content
    user.refresh_from_db()
    assert user.timezone == "UTC"


def _admin_models():
    return [m for m in apps.get_models() if admin.site.is_registered(m)]


def test_every_model_of_ours_is_in_the_admin():
    ours = {"accounts", "instances", "queries", "executions", "schedules"}
    missing = [m.__name__ for m in apps.get_models() if m._meta.app_label in ours and not admin.site.is_registered(m)]
    assert missing == []


def test_admin_changelists_and_add_pages_load(client, staff_user, owned_objects):
    client.force_login(staff_user)
    for model in _admin_models():
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert client.get(changelist).status_code == 200, changelist
        assert client.get(changelist, {"q": "x"}).status_code == 200, changelist
        obj = model._default_manager.first()
        if obj is not None:
            change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
            assert client.get(change).status_code == 200, change


def test_admin_never_shows_plaintext_tokens(client, staff_user, user):
    from accounts.models import AmazonConnection

    connection = AmazonConnection(user=user)
    connection.access_token = "Atza|TOPSECRETACCESS"
    connection.refresh_token = "Atzr|TOPSECRETREFRESH"
    connection.save()
    client.force_login(staff_user)
    for url in [
        reverse("admin:accounts_amazonconnection_changelist"),
        reverse("admin:accounts_amazonconnection_change", args=[connection.pk]),
    ]:
        body = client.get(url).content.decode()
        assert "TOPSECRET" not in body
        assert connection.access_token_encrypted not in body
    change_page = client.get(reverse("admin:accounts_amazonconnection_change", args=[connection.pk]))
    assert "stored (encrypted)" in change_page.content.decode()
