"""Brand pages: scoped to the owner, import with preview, picker JSON (fan-out: runsets/tests/test_brand_fanout.py)."""

import pytest
from django.urls import reverse

from brands.models import Brand

pytestmark = pytest.mark.django_db


@pytest.fixture
def brand(user):
    return Brand.objects.create(owner=user, name="Acme")


def test_create_edit_list_and_search(user_client, user, make_instance):
    instance = make_instance(user)
    response = user_client.post(reverse("brand_create"), {"name": "Acme", "instances": [instance.pk]})
    brand = Brand.objects.get(owner=user)
    assert response.url == reverse("brand_detail", args=[brand.pk])
    assert list(brand.instances.all()) == [instance]
    duplicate = user_client.post(reverse("brand_create"), {"name": "acme"})
    assert "already have a brand with this name" in duplicate.content.decode()
    user_client.post(reverse("brand_edit", args=[brand.pk]), {"name": "Acme Corp", "description": "d"})
    brand.asins.create(asin="B0AAAAAAA1")
    assert "Acme Corp" in user_client.get(reverse("brand_list"), {"q": "B0AAAAAAA1"}).content.decode()
    assert "Acme Corp" not in user_client.get(reverse("brand_list"), {"q": "zzz"}).content.decode()


def test_import_previews_with_line_errors_then_imports_the_previewed_text(user_client, brand):
    url = reverse("brand_import", args=[brand.pk])
    bad = user_client.post(url, {"content": "asin,title\nB0AAAAAAA1,Tent\nnope,x\n", "action": "preview"})
    body = bad.content.decode()
    assert "pasted:3: &#x27;NOPE&#x27; is not an ASIN" in body and 'value="import"' not in body
    good = user_client.post(url, {"content": "asin,title\nB0AAAAAAA1,Tent\n", "action": "preview"})
    assert 'value="import"' in good.content.decode() and not brand.asins.exists()
    done = user_client.post(url, {"content": "asin,title\nB0AAAAAAA1,Tent\n", "kind": "asins", "action": "import"})
    assert done.status_code == 302 and list(brand.asins.values_list("title", flat=True)) == ["Tent"]


def test_import_accepts_an_uploaded_tsv(user_client, brand):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("c.tsv", b"campaign_id\tname\ttype\n111\tSpring\tSP\n")
    user_client.post(reverse("brand_import", args=[brand.pk]), {"file": upload, "action": "import"})
    assert list(brand.campaigns.values_list("campaign_id", "type")) == [("111", "SP")]


def test_picker_json_lists_only_the_users_brands(user_client, brand, other_user):
    Brand.objects.create(owner=other_user, name="Theirs")
    brand.campaigns.create(campaign_id="111", name="Spring", type="DSP")
    listed = user_client.get(reverse("brand_picker_brands")).json()["brands"]
    assert listed == [{"id": brand.pk, "name": "Acme", "asins": 0, "campaigns": 1}]
    items = user_client.get(reverse("brand_picker_items", args=[brand.pk]), {"kind": "campaigns"}).json()
    assert items["reference"] == f"brand:{brand.pk}:campaigns"
    assert items["items"] == [{"value": "111", "label": "Spring (DSP)", "type": "DSP"}]


def test_run_form_offers_the_picker_for_library_list_parameters(user_client, user, make_workflow):
    workflow = make_workflow(user, sql="SELECT 1 FROM dsp_impressions WHERE campaign_id_string IN ({{campaign_ids}})")
    workflow.parameters = [{"name": "campaign_ids", "type": "campaign_list", "label": "DSP campaign ids"}]
    workflow.save()
    body = user_client.get(reverse("execution_run"), {"workflow": workflow.workflow_id}).content.decode()
    assert 'data-list-picker="campaigns"' in body and 'data-campaign-type="DSP"' in body
    assert "js/brand_picker.js" in body and 'id="list-picker-config"' in body


def test_remove_selected_items(user_client, brand):
    brand.asins.create(asin="B0AAAAAAA1")
    brand.asins.create(asin="B0AAAAAAA2")
    user_client.post(reverse("brand_items_remove", args=[brand.pk]), {"asin": ["B0AAAAAAA1"]})
    assert list(brand.asins.values_list("asin", flat=True)) == ["B0AAAAAAA2"]
