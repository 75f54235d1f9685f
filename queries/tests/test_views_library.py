"""The query library: browsing, previewing and turning a template into a saved query."""

import pytest
from django.urls import reverse

from queries.models import DataSource, QueryTemplate, Workflow

pytestmark = pytest.mark.django_db

SQL = (
    "SELECT campaign, COUNT(DISTINCT user_id) AS reach\nFROM dsp_impressions\n"
    "WHERE campaign_id_string IN ({{campaign_ids}})\nGROUP BY campaign\nLIMIT {{row_limit}}"
)


@pytest.fixture
def templates(other_user):
    reach = QueryTemplate.objects.create(
        slug="campaign-reach", name="Campaign reach", category="Reach & frequency", tags=["dsp", "reach"],
        description="Distinct users per campaign.", sql_template=SQL, tables=["dsp_impressions", "unknown_table"],
        parameters=[{"name": "campaign_ids", "type": "id_list", "label": "Campaign ids", "required": True},
                    {"name": "row_limit", "type": "integer", "default": 50, "required": False}],
    )  # fmt: skip
    ntb = QueryTemplate.objects.create(
        slug="new-to-brand", name="New-to-brand share", category="Conversions", tags=["ntb"],
        sql_template="SELECT 1 AS one", description="Share of NTB.",
    )  # fmt: skip
    QueryTemplate.objects.create(slug="private", name="Someone else's", category="Conversions", is_public=False,
                                 owner=other_user, sql_template="SELECT 2")  # fmt: skip
    DataSource.objects.create(schema_id="dsp-impressions", name="DSP", table_name="dsp_impressions", category="DSP")
    return reach, ntb


def test_list_full_page_and_partial_with_filters_in_the_url(user_client, templates):
    url = reverse("template_list")
    page = user_client.get(url).content.decode()
    assert "<html" in page and "Campaign reach" in page and "New-to-brand share" in page
    assert "Someone else" not in page
    partial = user_client.get(url, {"q": "distinct users"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Campaign reach" in partial and "New-to-brand" not in partial
    by_category = user_client.get(url, {"category": "Conversions"}, HTTP_HX_REQUEST="true").content.decode()
    assert "New-to-brand share" in by_category and "Campaign reach" not in by_category
    by_tag = user_client.get(url, {"tag": "reach"}).content.decode()
    assert "Campaign reach" in by_tag and "New-to-brand share" not in by_tag


def test_preview_shows_sql_parameters_and_tables(user_client, templates):
    html = user_client.get(reverse("template_detail", args=["campaign-reach"])).content.decode()
    assert "{{campaign_ids}}" in html and "Campaign ids" in html and 'name="param_campaign_ids"' in html
    assert reverse("data_source_detail", args=["dsp-impressions"]) in html  # documented table links to its page
    assert "<code>unknown_table</code>" in html
    assert reverse("query_editor") + "?template=campaign-reach" in html


def test_private_template_of_another_user_is_404(user_client, templates):
    assert user_client.get(reverse("template_detail", args=["private"])).status_code == 404


def test_use_template_creates_a_saved_query_and_opens_the_editor(user_client, user, templates):
    response = user_client.post(
        reverse("template_detail", args=["campaign-reach"]),
        {"name": "Reach for Q1", "param_campaign_ids": "111, 222", "param_row_limit": "25"},
    )
    workflow = Workflow.objects.get(owner=user)
    assert response.status_code == 302 and response["Location"] == reverse("workflow_edit", args=[workflow.workflow_id])
    assert workflow.name == "Reach for Q1" and workflow.template == templates[0] and workflow.sql == SQL
    assert {p["name"]: p["default"] for p in workflow.parameters} == {"campaign_ids": ["111", "222"], "row_limit": 25}
    editor = user_client.get(response["Location"]).content.decode()
    assert "111, 222" in editor  # the defaults fill the editor's parameter form


def test_use_template_rejects_bad_values_with_field_errors(user_client, user, templates):
    url = reverse("template_detail", args=["campaign-reach"])
    response = user_client.post(url, {"name": "X", "param_campaign_ids": "1'); DROP TABLE users; --"})
    assert response.status_code == 200
    assert "is not a valid id" in response.content.decode()
    missing = user_client.post(url, {"name": "X", "param_campaign_ids": ""})
    assert "A value is required." in missing.content.decode()
    assert not Workflow.objects.filter(owner=user).exists()


def test_open_template_in_editor_preloads_its_sql_and_parameters(user_client, templates):
    html = user_client.get(reverse("query_editor"), {"template": "campaign-reach"}).content.decode()
    assert "{{campaign_ids}}" in html and 'name="template" value="campaign-reach"' in html
    assert 'name="param_row_limit"' in html and 'value="50"' in html
    hidden = user_client.get(reverse("query_editor"), {"template": "private"}).content.decode()
    assert "SELECT 2" not in hidden
