import pytest
from django.urls import reverse

from brands.models import Brand

pytestmark = pytest.mark.django_db


def test_every_brand_table_has_a_working_admin(client, staff_user, user, make_instance):
    brand = Brand.objects.create(owner=user, name="Acme")
    brand.instances.add(make_instance(user))
    asin = brand.asins.create(asin="B0AAAAAAA1", title="Tent")
    campaign = brand.campaigns.create(campaign_id="111", name="Spring", type="SP")
    client.force_login(staff_user)
    for model, obj in (("brand", brand), ("brandasin", asin), ("brandcampaign", campaign)):
        assert client.get(reverse(f"admin:brands_{model}_changelist"), {"q": "a"}).status_code == 200
        assert client.get(reverse(f"admin:brands_{model}_change", args=[obj.pk])).status_code == 200
