import pytest
from django.core.management import call_command

from accounts.models import AmazonConnection, User
from guides.models import Guide
from instances.models import AMCInstance
from queries.models import DataSource, QueryTemplate, Workflow
from schedules.models import Schedule

pytestmark = pytest.mark.django_db(transaction=True)


def test_seed_demo_is_idempotent_and_leaves_a_working_sandbox_setup(settings, sandbox_dataset, capsys):
    settings.SANDBOX_DATA_PATH = sandbox_dataset
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "Demo login: demo@recomamp.local / demo-password-123" in first
    call_command("seed_demo")
    user = User.objects.get(email="demo@recomamp.local")
    assert user.check_password("demo-password-123")
    assert AmazonConnection.objects.get(user=user).status == AmazonConnection.Status.ACTIVE
    assert AMCInstance.objects.filter(owner=user, is_sandbox=True).count() == 1
    assert AMCInstance.objects.filter(owner=user).count() == 4  # US x2, UK (EU), JP (FE)
    assert set(AMCInstance.objects.filter(owner=user).values_list("region", flat=True)) == {"NA", "EU", "FE"}
    assert DataSource.objects.count() >= 25 and QueryTemplate.objects.count() >= 20
    assert Guide.objects.count() >= 12
    assert Workflow.objects.filter(owner=user).count() == 3
    assert Schedule.objects.filter(owner=user).count() == 1
    delivery = Workflow.objects.get(owner=user, template__slug="dsp-campaign-delivery")
    campaign_ids = next(p for p in delivery.parameters if p["name"] == "campaign_ids")["default"]
    assert len(campaign_ids) == 3 and all(campaign_ids)
    brands = {b.name: b for b in user.brands.all()}
    assert set(brands) == {"Northwind", "Contoso"}
    assert brands["Northwind"].asins.count() == 6 and brands["Northwind"].campaigns.filter(type="DSP").count() == 3
    assert brands["Contoso"].instances.count() == 4  # every demo instance, the UK and JP ones included
