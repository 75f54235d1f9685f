"""The CodeMirror 6 editor (bundled from frontend/ by npm run build): completion while typing, aliases,
parameters, the workbench shortcuts and the server's lint marks, under the site's Content Security Policy."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from tests.browser.conftest import screenshot
from tests.browser.test_connect_and_run import sign_in

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


@pytest.fixture
def editor(page, user):
    call_command("import_amc_schemas", verbosity=0)
    csp_messages: list[str] = []
    page.on("console", lambda m: csp_messages.append(m.text) if "Content Security Policy" in m.text else None)
    page.csp_messages = csp_messages
    sign_in(page, user.email)
    page.goto("/queries/editor/")
    expect(page.locator(".cm-editor")).to_be_visible()
    page.wait_for_function("window.RecomAMP && window.RecomAMP.editor")
    return page


def options(page) -> list[str]:
    return page.locator(".cm-tooltip-autocomplete li .cm-completionLabel").all_inner_texts()


def test_tables_complete_after_from_while_typing(editor):
    page = editor
    page.locator(".cm-content").click()
    page.keyboard.type("SELECT  FROM d", delay=30)
    popup = page.locator(".cm-tooltip-autocomplete")
    expect(popup).to_be_visible()  # no Ctrl-Space pressed
    labels = options(page)
    assert labels[0].startswith("dsp_") and "dsp_impressions" in labels and "campaign" not in labels
    page.keyboard.type("sp_impr")
    expect(popup.locator("li[aria-selected=true]")).to_contain_text("dsp_impressions")
    page.keyboard.press("Enter")
    assert page.evaluate("RecomAMP.editor.getValue()") == "SELECT  FROM dsp_impressions"
    # the form's textarea follows the editor, so a save without JS-specific code posts what is shown
    assert page.locator("textarea[name=sql]").input_value() == "SELECT  FROM dsp_impressions"

    # columns of the table in scope, typed and badged, complete inside the SELECT list
    page.keyboard.press("Control+Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    page.keyboard.type("impr", delay=30)
    expect(popup).to_be_visible()
    option = popup.locator("li", has_text="impressions").first
    expect(option.locator(".cm-kind-badge")).to_have_text("M")
    expect(option.locator(".cm-completionDetail")).to_contain_text("LONG")
    screenshot(page, "40-editor-autocomplete")
    # the schema panel keeps every name on one line (shortened with an ellipsis, whole in the title)
    heights = page.eval_on_selector_all(".schema-results code", "nodes => nodes.map((n) => n.offsetHeight)")
    assert len(heights) >= 20 and len(set(heights)) == 1  # a wrapped name would be twice as tall
    assert page.csp_messages == [] and page.console_errors == []


def test_alias_columns_functions_and_parameters(editor):
    page = editor
    page.evaluate("RecomAMP.editor.setValue('SELECT  FROM dsp_impressions i WHERE i.campaign = {{campaign_name}}')")
    page.locator(".cm-content").click()
    page.keyboard.press("Control+Home")
    for _ in range(7):
        page.keyboard.press("ArrowRight")
    page.keyboard.type("i.", delay=30)
    popup = page.locator(".cm-tooltip-autocomplete")
    expect(popup).to_be_visible()
    labels = options(page)
    assert "campaign" in labels and "user_id" in labels and "dsp_impressions" not in labels
    expect(popup.locator("li", has_text="user_id").first.locator(".cm-kind-badge")).to_have_text("D")
    page.keyboard.press("Escape")
    page.keyboard.type(", COUNT", delay=30)
    expect(popup.locator("li", has_text="COUNT").first.locator(".cm-kind-badge")).to_have_text("Σ")
    page.keyboard.press("Escape")
    page.keyboard.type(", {{", delay=30)
    expect(popup).to_be_visible()
    assert "campaign_name" in options(page)
    assert page.console_errors == []


def test_shortcuts_dispatch_workbench_events_and_lint_marks_errors(editor):
    page = editor
    page.evaluate(
        """() => { window.seen = [];
        document.addEventListener('workbench:run', (e) => { window.seen.push('run'); e.preventDefault(); });
        document.addEventListener('workbench:check', (e) => { window.seen.push('check'); e.preventDefault(); }); }"""
    )
    page.locator(".cm-content").click()
    page.keyboard.press("Control+Enter")
    page.keyboard.press("Shift+Enter")
    assert page.evaluate("window.seen") == ["run", "check"]

    set_value = "(text) => RecomAMP.editor.setValue(text)"
    page.evaluate(set_value, "SELECT campaign, COUNT(*) AS n\nFROM dsp_impressions\nGROUP BY campaign\nLIMIT 10")
    expect(page.locator("#diagnostics")).to_contain_text("Line 4, column 1", timeout=10_000)
    expect(page.locator(".cm-lint-marker-error")).to_have_count(1)
    expect(page.locator(".cm-lintRange-error")).to_have_count(1)
    screenshot(page, "41-editor-lint")
    page.evaluate(set_value, "SELECT campaign, COUNT(*) AS n\nFROM dsp_impressions\nGROUP BY campaign")
    expect(page.locator("#diagnostics")).to_contain_text("No problems found", timeout=10_000)
    expect(page.locator(".cm-lint-marker-error")).to_have_count(0)
    assert page.csp_messages == [] and page.console_errors == []


def test_editor_fits_a_phone(editor):
    page = editor
    page.set_viewport_size({"width": 390, "height": 844})
    page.evaluate("(text) => RecomAMP.editor.setValue(text)", "SELECT campaign, " + "impressions, " * 20 + "1 FROM x")
    box = page.locator(".cm-editor").bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # long lines scroll inside the editor
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(page, "43-editor-phone")
