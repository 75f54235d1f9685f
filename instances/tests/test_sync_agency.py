"""Sync at agency scale, over real HTTP against the sandbox: refused accounts and the three regional hosts."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.amazon import amc_client_for
from instances.models import AdvertiserAccount, AMCInstance
from instances.services import SyncError, sync_instances
from recomamp.sandbox.models import SandboxAccount

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def connected(user, amc_sandbox):
    from home.demo import connect_to_sandbox
    from recomamp.sandbox.seed import ensure_sandbox_catalog

    ensure_sandbox_catalog()
    connect_to_sandbox(user)
    return user


def test_accounts_and_instances_are_found_on_their_regional_host(connected):
    sync_instances(connected)
    regions = dict(AMCInstance.objects.filter(owner=connected).values_list("instance_id", "region"))
    assert regions == {"amcdemo0sbx": "NA", "amcnwus0002": "NA", "amcctuk0003": "EU", "amcfbjp0004": "FE"}
    accounts = dict(AdvertiserAccount.objects.filter(owner=connected).values_list("name", "region"))
    assert accounts == {"Northwind Outdoor": "NA", "Contoso Home UK": "EU", "Fabrikam Japan": "FE"}
    # Each host lists only its own accounts, and an instance answers only on its region's host.
    jp = AMCInstance.objects.select_related("account").get(owner=connected, instance_id="amcfbjp0004")
    with amc_client_for(connected, "NA") as na:
        assert "ENTITY3FABRIKAMJP" not in [a.account_id for a in na.list_accounts()]
        with pytest.raises(Exception, match="403"):
            na.get_instance(jp)
    with amc_client_for(connected, jp.region) as fe:
        assert fe.get_instance(jp).instance_id == "amcfbjp0004"
        assert fe.get_instance(jp).api_endpoint.endswith("/sandbox/fe")


def test_a_refused_account_is_named_and_the_others_are_stored(connected):
    sync_instances(connected)
    SandboxAccount.objects.filter(entity_id="ENTITY2CONTOSOUK3R").update(refuses_access=True)
    SandboxAccount.objects.get(entity_id="ENTITY1NWOUTDOOR7Q").instances.filter(instance_id="amcnwus0002").delete()
    report = sync_instances(connected)
    assert [f.name for f in report.failures] == ["Contoso Home UK (EU)"]
    assert "403" in report.failures[0].reason and "not permitted" in report.failures[0].reason
    assert sorted(report.updated) == ["amcdemo0sbx", "amcfbjp0004"]
    # Gone from a readable account: inactive. The refused account's instance: left as it was.
    statuses = dict(AMCInstance.objects.filter(owner=connected).values_list("instance_id", "status"))
    assert statuses["amcnwus0002"] == "inactive" and statuses["amcctuk0003"] == "active"
    assert AdvertiserAccount.objects.get(owner=connected, entity_id="ENTITY2CONTOSOUK3R").is_active


def test_refusals_in_the_command_and_the_page(connected, client):
    SandboxAccount.objects.filter(entity_id="ENTITY2CONTOSOUK3R").update(refuses_access=True)
    out, err = StringIO(), StringIO()
    call_command("sync_instances", "--user", connected.email, stdout=out, stderr=err)
    assert "3 new" in out.getvalue()
    assert "could not read Contoso Home UK (EU): AMC refused access (403)" in err.getvalue()
    client.force_login(connected)
    page = client.post(reverse("instance_sync"), follow=True).content.decode()
    assert "Synced from Amazon" in page and "Could not read Contoso Home UK (EU): AMC refused access (403)" in page
    assert "not permitted for this user" in page


def test_nothing_readable_is_an_error_naming_each_account(connected):
    SandboxAccount.objects.update(refuses_access=True)
    with pytest.raises(SyncError) as caught:
        sync_instances(connected)
    assert sorted(f.name for f in caught.value.report.failures) == [
        "Contoso Home UK (EU)",
        "Fabrikam Japan (FE)",
        "Northwind Outdoor (NA)",
    ]
    assert not AMCInstance.objects.exists()
    err = StringIO()
    with pytest.raises(CommandError, match="nothing could be read"):
        call_command("sync_instances", "--user", connected.email, stderr=err)
    assert "could not read Fabrikam Japan (FE)" in err.getvalue()
