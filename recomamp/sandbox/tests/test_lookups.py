"""The sandbox's per-call reads in fixed SQL give what the ORM's select_related reads gave, in one query each."""

from datetime import UTC, datetime, timedelta

import pytest

from recomamp.sandbox import lookups
from recomamp.sandbox.models import (
    AccessToken,
    RefreshToken,
    SandboxAccount,
    SandboxFaults,
    SandboxInstance,
    SandboxWorkflow,
)  # fmt: skip

pytestmark = pytest.mark.django_db
NOW = datetime(2025, 3, 10, tzinfo=UTC)


@pytest.fixture
def instance():
    account = SandboxAccount.objects.create(entity_id="ENTLOOKUP", name="Lookup", marketplace_id="ATVPDKIKX0DER")
    return SandboxInstance.objects.create(instance_id="amclookup1", account=account, name="Lookup US")


def test_an_instance_comes_with_its_account_and_faults(instance, django_assert_num_queries):
    with django_assert_num_queries(1):
        found = lookups.instance("amclookup1")
        assert (found.pk, found.account.entity_id) == (instance.pk, "ENTLOOKUP")
        assert getattr(found, "faults", None) is None  # none, known without a query
    SandboxFaults.objects.create(instance=instance, throttle_rate=0.5)
    with django_assert_num_queries(1):
        found = lookups.instance("amclookup1")
        assert found.faults.throttle_rate == 0.5 and found.faults.instance is found
    assert lookups.instance("amcunknown") is None


def test_a_token_is_found_only_while_its_grant_stands(django_assert_num_queries):
    refresh = RefreshToken.objects.create(token_hash="r" * 64, client_id="client", created_at=NOW)
    AccessToken.objects.create(token_hash="a" * 64, refresh_token=refresh, created_at=NOW,
                               expires_at=NOW + timedelta(hours=1))  # fmt: skip
    with django_assert_num_queries(1):
        token = lookups.access_token("a" * 64)
        assert (token.expires_at, token.refresh_token.client_id) == (NOW + timedelta(hours=1), "client")
    RefreshToken.objects.filter(pk=refresh.pk).update(revoked_at=NOW)
    assert lookups.access_token("a" * 64) is None
    assert lookups.access_token("b" * 64) is None


def test_a_workflow_is_looked_up_on_its_own_instance(instance):
    SandboxWorkflow.objects.create(instance=instance, workflow_id="wf_one", definition={"sqlQuery": "SELECT 1"},
                                   created_at=NOW, updated_at=NOW)  # fmt: skip
    found = lookups.workflow(instance, "wf_one")
    assert found.definition == {"sqlQuery": "SELECT 1"} and found.instance is instance
    assert lookups.workflow(instance, "wf_two") is None
