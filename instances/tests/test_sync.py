"""Instance sync through the AMC client against the sandbox over real HTTP."""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.amazon import AmazonConnectionError, disconnect
from instances.models import AdvertiserAccount, AMCInstance
from instances.services import sync_instances
from recomamp.sandbox.models import SandboxInstance
from recomamp.sandbox.seed import DEMO_INSTANCE_ID

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connected(user, amc_sandbox):
    from home.demo import connect_to_sandbox
    from recomamp.sandbox.seed import ensure_sandbox_catalog

    ensure_sandbox_catalog()
    connect_to_sandbox(user)
    return user


def test_sync_upserts_accounts_and_instances(connected):
    report = sync_instances(connected)
    assert sorted(report.created) == sorted(SandboxInstance.objects.values_list("instance_id", flat=True))
    assert report.accounts == 3
    demo = AMCInstance.objects.select_related("account").get(owner=connected, instance_id=DEMO_INSTANCE_ID)
    assert demo.is_sandbox and demo.instance_type == "SANDBOX" and demo.status == AMCInstance.Status.ACTIVE
    assert demo.account.entity_id == SandboxInstance.objects.get(instance_id=DEMO_INSTANCE_ID).account.entity_id
    uk = AdvertiserAccount.objects.get(owner=connected, marketplace_id="A1F83G8C2ARO7P")
    assert uk.region == "EU"
    again = sync_instances(connected)
    assert again.created == [] and len(again.updated) == 4
    assert AMCInstance.objects.filter(owner=connected).count() == 4


def test_instances_gone_from_amc_are_marked_inactive_not_deleted(connected):
    sync_instances(connected)
    SandboxInstance.objects.filter(instance_id="amcctuk0003").delete()
    report = sync_instances(connected)
    assert report.deactivated == ["amcctuk0003"]
    gone = AMCInstance.objects.get(owner=connected, instance_id="amcctuk0003")
    assert gone.status == AMCInstance.Status.INACTIVE


def test_sync_without_connection_raises_a_plain_error_and_saves_nothing(connected):
    disconnect(connected)
    with pytest.raises(AmazonConnectionError, match="not connected"):
        sync_instances(connected)
    assert not AMCInstance.objects.exists()


def test_sync_command_and_button(connected, client):
    call_command("sync_instances", "--user", connected.email)
    assert AMCInstance.objects.filter(owner=connected).count() == 4
    with pytest.raises(CommandError, match="no user"):
        call_command("sync_instances", "--user", "nobody@example.com")
    client.force_login(connected)
    response = client.post(reverse("instance_sync"), follow=True)
    assert b"Synced from Amazon" in response.content
    assert b"RecomAMP Demo Instance" in response.content


def test_instance_list_filters_by_label_in_the_url(connected, client):
    sync_instances(connected)
    demo = AMCInstance.objects.get(owner=connected, instance_id=DEMO_INSTANCE_ID)
    demo.brands = ["Northwind"]
    demo.save()
    client.force_login(connected)
    page = client.get(reverse("instance_list"), {"label": "Northwind"})
    assert b"amcdemo0sbx" in page.content and b"amcctuk0003" not in page.content
    partial = client.get(reverse("instance_list"), {"label": "Northwind"}, HTTP_HX_REQUEST="true")
    assert b"<html" not in partial.content and b"amcdemo0sbx" in partial.content
