// The workbench on the editor page (templates/executions/workbench/editor.html): run in place, keep drafts.
// Talks to the editor only through its contract: `workbench:run` / `workbench:check` events on document and
// window.RecomAMP.editor = {getValue, setValue, focus}; the form's `sql` textarea is kept in sync by the editor.
(function () {
  "use strict";
  const root = document.getElementById("workbench");
  if (!root) return;
  const form = root.closest("form");
  const textarea = form.querySelector("textarea[name=sql]");
  const pane = document.getElementById("workbench-pane");
  const draftKey = root.dataset.draftKey;
  const SAVING_KEY = "recomamp:draft-saving";

  function editor() {
    return (window.RecomAMP && window.RecomAMP.editor) || null;
  }
  function currentSql() {
    const ed = editor();
    return ed ? ed.getValue() : textarea.value;
  }
  function message(text, isError) {
    const node = document.getElementById("workbench-message");
    if (!node) return;
    node.textContent = text;
    node.classList.toggle("field-error", Boolean(isError));
    node.setAttribute("role", isError ? "alert" : "status");
  }

  // --- Running -----------------------------------------------------------------------------------------------
  let running = false;
  async function run(confirmed) {
    if (running) return;
    running = true;
    const data = new FormData(form);
    data.set("sql", currentSql());
    data.delete("action");
    if (confirmed) data.set("confirm", "1");
    message("Starting…");
    try {
      const response = await fetch(root.dataset.runUrl, {
        method: "POST",
        body: data,
        headers: { "X-CSRFToken": data.get("csrfmiddlewaretoken"), "HX-Request": "true" },
        credentials: "same-origin",
      });
      if (response.status === 422) {
        message((await response.json()).error, true);
        return;
      }
      if (response.status === 409) {
        const warnings = (await response.json()).warnings;
        running = false;
        if (window.confirm("The query has warnings:\n\n" + warnings.join("\n") + "\n\nRun it anyway?")) return run(true);
        message("Not run: the query has warnings.");
        return;
      }
      if (!response.ok) {
        message("The run could not be started (" + response.status + ").", true);
        return;
      }
      pane.innerHTML = await response.text();
      if (window.htmx) Array.from(pane.children).forEach((child) => window.htmx.process(child));
      message("");
      document.body.dispatchEvent(new CustomEvent("workbench-finished"));  // list the new run in the history
    } catch (error) {
      message("The server could not be reached.", true);
    } finally {
      running = false;
    }
  }

  document.addEventListener("workbench:run", () => run(false));
  document.addEventListener("workbench:check", () => {
    textarea.value = currentSql();
    textarea.dispatchEvent(new CustomEvent("validate-now", { bubbles: true }));
  });
  form.addEventListener("click", (event) => {
    if (event.target.closest("[data-workbench-run]")) {
      event.preventDefault();
      run(false);
    }
  });

  // --- Never lose work ---------------------------------------------------------------------------------------
  let baseline = null; // the SQL as saved (or as the page opened it)
  let formChanged = Boolean(root.dataset.unsaved);
  let leaving = false;

  function dirty() {
    return formChanged || (baseline !== null && currentSql() !== baseline);
  }
  form.addEventListener("input", (event) => {
    if (event.target.closest(".editor-details")) formChanged = true; // name, description, tags
  });
  form.addEventListener("submit", (event) => {
    leaving = true;
    const action = event.submitter ? event.submitter.value : "";
    if (action === "save") sessionStorage.setItem(SAVING_KEY, draftKey);
  });
  window.addEventListener("beforeunload", (event) => {
    if (leaving || !dirty()) return;
    event.preventDefault();
    event.returnValue = ""; // the browser asks "Leave site? Changes you made may not be saved."
  });

  function readDraft() {
    try {
      return JSON.parse(localStorage.getItem(draftKey) || "null");
    } catch (error) {
      return null;
    }
  }
  function keepDraft() {
    const sql = currentSql();
    if (baseline === null) return;
    if (sql === baseline && !formChanged) return;
    const stored = readDraft();
    if (!stored || stored.sql !== sql) localStorage.setItem(draftKey, JSON.stringify({ sql: sql, at: Date.now() }));
  }

  function offerDraft() {
    const banner = document.getElementById("workbench-draft");
    const draft = readDraft();
    if (!banner || !draft || draft.sql === currentSql()) return;
    const at = new Date(draft.at);
    const two = (n) => String(n).padStart(2, "0"); // the app's one format: 2026-12-06 00:10 (recomamp/formats)
    const when = `${at.getFullYear()}-${two(at.getMonth() + 1)}-${two(at.getDate())} ${two(at.getHours())}:${two(at.getMinutes())}`;
    banner.querySelector("[data-draft-text]").textContent = "An unsaved draft of this query from " + when + " was kept.";
    banner.hidden = false;
    banner.addEventListener("click", (event) => {
      if (event.target.closest("[data-draft-restore]")) {
        const ed = editor();
        if (ed) ed.setValue(draft.sql);
        textarea.value = draft.sql;
        textarea.dispatchEvent(new Event("input", { bubbles: true }));
        banner.hidden = true;
        if (ed) ed.focus();
      } else if (event.target.closest("[data-draft-discard]")) {
        localStorage.removeItem(draftKey);
        banner.hidden = true;
      }
    });
  }

  function start() {
    // A save that came back without errors has made the draft it was saving obsolete.
    const saving = sessionStorage.getItem(SAVING_KEY);
    sessionStorage.removeItem(SAVING_KEY);
    if (saving && !document.querySelector(".alert-error, .field-error")) localStorage.removeItem(saving);
    baseline = root.dataset.unsaved ? "\u0000" : currentSql();
    offerDraft();
    window.setInterval(keepDraft, 1000);
    window.addEventListener("pagehide", keepDraft);
  }
  // The editor may enhance the textarea after this script: start once it is there (or without it).
  if (editor()) start();
  else window.addEventListener("load", start);
})();
