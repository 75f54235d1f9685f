"""The brand picker mounts on any element [data-brand-picker data-param=… data-kind=…]: on the run-set form it
writes the query's list parameter as a `name=value` line (a reference, late-bound, or the chosen values), and an
element added to a page later is mounted by window.BrandPicker.mountAll."""

import pytest
from playwright.sync_api import expect

from brands.models import Brand
from queries.models import Workflow
from runsets.models import RunSet
from tests.browser.test_connect_and_run import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

SQL = "SELECT asin, COUNT(*) AS purchases FROM amazon_retail_purchases WHERE asin IN ({{asins}}) GROUP BY asin"


@pytest.fixture
def brand(user):
    brand = Brand.objects.create(owner=user, name="Northwind")
    for asin in ("B0AAAAAAA1", "B0AAAAAAA2", "B0AAAAAAA3"):
        brand.asins.create(asin=asin, title=f"Tent {asin[-1]}")
    brand.campaigns.create(campaign_id="111", name="Spring", type="DSP")
    brand.campaigns.create(campaign_id="222", name="Search", type="SP")
    return brand


def test_the_run_set_form_fills_a_list_parameter_line_from_a_brand(page, user, brand, make_instance):
    instance = make_instance(user)
    workflow = Workflow.objects.create(owner=user, name="Purchases by ASIN", sql=SQL,
                                       parameters=[{"name": "asins", "type": "asin_list"}])  # fmt: skip
    sign_in(page, user.email)
    page.goto(f"/runsets/new/?workflow={workflow.workflow_id}")
    picker = page.locator('[data-brand-picker][data-param="asins"]')
    parameters = page.get_by_label("Parameters")
    parameters.fill("country=US")
    picker.get_by_label("Brand").select_option(str(brand.pk))
    expect(picker.locator("[data-picker-count]")).to_have_text("3 of 3 selected")
    picker.get_by_label("Search the list").fill("A2")
    picker.locator("[data-picker-all]").uncheck()  # only the visible (searched) item is unchecked
    picker.get_by_role("button", name="Use selected").click()
    expect(parameters).to_have_value("country=US\nasins=B0AAAAAAA1, B0AAAAAAA3")
    picker.get_by_role("button", name="Always use the brand's current list").click()
    expect(parameters).to_have_value(f"country=US\nasins=brand:{brand.pk}:asins")  # the line replaced, not added
    expect(picker.locator("[data-picker-count]")).to_have_text("Uses the brand's list as it is at each run.")

    page.get_by_label(instance.name).check()
    page.get_by_role("button", name="Start run set").click()
    run_set = RunSet.objects.get()
    assert run_set.parameters == {"country": "US", "asins": f"brand:{brand.pk}:asins"}
    assert page.console_errors == []


def test_a_picker_added_later_mounts_on_any_element_and_fills_its_field(page, user, brand):
    workflow = Workflow.objects.create(owner=user, name="Purchases by ASIN", sql=SQL,
                                       parameters=[{"name": "asins", "type": "asin_list"}])  # fmt: skip
    sign_in(page, user.email)
    page.goto(f"/runsets/new/?workflow={workflow.workflow_id}")  # a page that loads the picker
    page.evaluate(
        """() => {
        const bar = document.createElement("form");
        bar.id = "run-bar";
        bar.innerHTML = '<input name="campaign_ids" aria-label="Campaigns">'
          + '<span data-brand-picker data-param="campaign_ids" data-kind="campaigns" data-campaign-type="DSP"></span>';
        document.body.append(bar);
        window.BrandPicker.mountAll(bar);
      }"""
    )
    bar = page.locator("#run-bar")
    bar.get_by_label("Brand").select_option(str(brand.pk))
    expect(bar.locator("[data-picker-count]")).to_have_text("1 of 1 selected")  # DSP only, as the element asks
    bar.get_by_role("button", name="Use selected").click()
    expect(bar.get_by_label("Campaigns")).to_have_value("111")
    bar.get_by_label("Campaign type").select_option("")
    expect(bar.locator("[data-picker-count]")).to_have_text("2 of 2 selected")
    page.evaluate("window.BrandPicker.mountAll(document.getElementById('run-bar'))")  # mounting twice is a no-op
    expect(bar.locator(".list-picker")).to_have_count(1)
    assert page.console_errors == []
