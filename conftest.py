"""Fixtures shared by every app's tests: users and small owned objects."""
# ruff: noqa: S106

import pytest

from accounts.models import User


@pytest.fixture
def user(db):
    return User.objects.create_user(email="analyst@example.com", password="correct-horse-battery")


@pytest.fixture
def other_user(db):
    return User.objects.create_user(email="other@example.com", password="correct-horse-battery")


@pytest.fixture
def staff_user(db):
    return User.objects.create_superuser(email="staff@example.com", password="correct-horse-battery")


@pytest.fixture
def user_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def make_instance():
    from instances.models import AdvertiserAccount, AMCInstance

    def make(owner, instance_id="amcabc123", entity_id="ENTITY1"):
        account, _ = AdvertiserAccount.objects.get_or_create(
            owner=owner, entity_id=entity_id, defaults={"name": "Acme", "marketplace_id": "ATVPDKIKX0DER"}
        )
        return AMCInstance.objects.create(owner=owner, account=account, instance_id=instance_id, name="Acme US")

    return make


@pytest.fixture
def make_workflow():
    from queries.models import Workflow

    default_sql = "SELECT campaign, COUNT(DISTINCT user_id) AS reach FROM dsp_impressions GROUP BY campaign"

    def make(owner, name="Reach by campaign", sql=default_sql):
        return Workflow.objects.create(owner=owner, name=name, sql=sql)

    return make
