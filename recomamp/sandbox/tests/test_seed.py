"""The sandbox catalog: idempotent, and shaped as the brief and AMC expect."""

import pytest

from recomamp.sandbox.models import SandboxAccount, SandboxInstance
from recomamp.sandbox.seed import DEMO_INSTANCE_ID, ensure_sandbox_catalog


@pytest.mark.django_db
def test_catalog_is_created_once():
    first = ensure_sandbox_catalog()
    second = ensure_sandbox_catalog()
    assert [i.pk for i in first] == [i.pk for i in second]
    assert SandboxInstance.objects.count() == len(first) >= 3
    accounts = list(SandboxAccount.objects.all())
    assert len(accounts) >= 2
    assert len({a.entity_id for a in accounts}) == len(accounts)
    assert len({a.marketplace_id for a in accounts}) == len(accounts)
    assert all(a.instances.exists() for a in accounts)
    demo = SandboxInstance.objects.get(instance_id=DEMO_INSTANCE_ID)
    assert "Demo" in demo.name


@pytest.mark.django_db
def test_catalog_keeps_admin_edits():
    ensure_sandbox_catalog()
    SandboxInstance.objects.filter(instance_id=DEMO_INSTANCE_ID).update(name="Renamed in admin")
    ensure_sandbox_catalog()
    assert SandboxInstance.objects.get(instance_id=DEMO_INSTANCE_ID).name == "Renamed in admin"
