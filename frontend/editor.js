// The SQL editor: CodeMirror 6 over the form's <textarea data-editor>. Without this bundle the textarea and its
// buttons still work. The textarea stays the form field: every change is copied back and announced with an
// "input" event, so htmx (hx-trigger="input changed delay:400ms") validates as the user types.
//
// Contract with the workbench (the run bar and results pane): Ctrl/Cmd-Enter dispatches `workbench:run` and
// Shift-Enter `workbench:check` on document (cancelable; when nobody cancels them the editor checks the query
// itself), and window.RecomAMP.editor = {getValue(), setValue(text), focus()}.
import { autocompletion, closeBrackets, closeBracketsKeymap, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import { PostgreSQL, keywordCompletionSource, sql } from "@codemirror/lang-sql";
import { bracketMatching, indentOnInput, syntaxHighlighting, defaultHighlightStyle } from "@codemirror/language";
import { lintGutter, setDiagnostics } from "@codemirror/lint";
import { highlightSelectionMatches, searchKeymap } from "@codemirror/search";
import { EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from "@codemirror/view";

import { badgeRenderer, loadCatalog, sqlCompletionSource } from "./completion.js";

const textarea = document.querySelector("textarea[data-editor]");
if (textarea) mount(textarea);

function cspNonce() {
  const meta = document.querySelector('meta[name="csp-nonce"]');
  return meta ? meta.content : "";
}

function mount(textarea) {
  const form = textarea.form;
  const validateNow = () => textarea.dispatchEvent(new CustomEvent("validate-now", { bubbles: true }));

  // Tell the workbench; when no listener takes the event, check the query here (the editor alone has no run).
  function announce(name) {
    const event = new CustomEvent(name, { cancelable: true, detail: { sql: view.state.doc.toString() } });
    if (document.dispatchEvent(event)) validateNow();
    return true;
  }

  const dialect = PostgreSQL;
  const view = new EditorView({
    parent: wrapper(textarea),
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        EditorView.cspNonce.of(cspNonce()),
        lineNumbers(),
        highlightActiveLineGutter(),
        history(),
        drawSelection(),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        highlightSelectionMatches(),
        syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
        sql({ dialect, upperCaseKeywords: true }),
        autocompletion({
          activateOnTyping: true,
          override: [sqlCompletionSource, keywordCompletionSource(dialect, true)],
          addToOptions: [badgeRenderer],
          icons: false, // the dimension/metric badge says more
        }),
        lintGutter(),
        EditorState.tabSize.of(2),
        keymap.of([
          { key: "Mod-Enter", run: () => announce("workbench:run"), preventDefault: true },
          { key: "Shift-Enter", run: () => announce("workbench:check"), preventDefault: true },
          ...closeBracketsKeymap,
          ...completionKeymap,
          ...searchKeymap,
          ...historyKeymap,
          ...defaultKeymap,
          indentWithTab,
        ]),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          textarea.dispatchEvent(new Event("input", { bubbles: true }));
        }),
        EditorView.contentAttributes.of({ "aria-label": "SQL", "data-testid": "sql-editor" }),
      ],
    }),
  });
  form.classList.add("editor-enhanced");
  textarea.hidden = true;

  // The server's diagnostics (1-based lines and columns, exclusive end) shown as lint marks.
  function showDiagnostics() {
    const node = document.getElementById("diagnostics-data");
    const list = node ? JSON.parse(node.textContent) : [];
    const doc = view.state.doc;
    const at = (line, column) => {
      const l = doc.line(Math.min(Math.max(1, line), doc.lines));
      return Math.min(l.from + Math.max(0, column - 1), l.to);
    };
    const diagnostics = list.map((d) => {
      const from = at(d.line, d.column);
      const to = Math.max(from, at(d.end_line || d.line, d.end_column || d.column));
      return { from, to, message: d.message, severity: d.severity === "error" ? "error" : "warning", source: d.code };
    });
    view.dispatch(setDiagnostics(view.state, diagnostics));
  }
  showDiagnostics();
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "diagnostics") showDiagnostics();
  });

  function jump(line, column) {
    const doc = view.state.doc;
    const l = doc.line(Math.min(Math.max(1, line), doc.lines));
    const pos = Math.min(l.from + Math.max(0, column - 1), l.to);
    view.dispatch({ selection: { anchor: pos }, effects: EditorView.scrollIntoView(pos, { y: "center" }) });
    view.focus();
  }

  function setValue(text) {
    view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: text } });
  }

  document.addEventListener("click", (event) => {
    const jumper = event.target.closest("[data-jump-line]");
    if (jumper && jumper !== textarea) {
      event.preventDefault();
      jump(Number(jumper.dataset.jumpLine), Number(jumper.dataset.jumpColumn || 1));
      return;
    }
    const insert = event.target.closest("[data-insert]");
    if (insert) {
      event.preventDefault();
      view.dispatch(view.state.replaceSelection(insert.dataset.insert));
      view.focus();
    }
  });

  if (textarea.dataset.jumpLine) jump(Number(textarea.dataset.jumpLine), Number(textarea.dataset.jumpColumn || 1));
  loadCatalog(textarea.dataset.hintsUrl);
  formatButton(form, textarea, setValue);

  window.RecomAMP = window.RecomAMP || {};
  window.RecomAMP.editor = {
    getValue: () => view.state.doc.toString(),
    setValue,
    focus: () => view.focus(),
    view,
  };
}

function wrapper(textarea) {
  const node = document.createElement("div");
  node.className = "sql-editor";
  textarea.after(node);
  return node;
}

// "Format SQL" in place; without JS the button posts the form and the page comes back formatted.
function formatButton(form, textarea, setValue) {
  const button = form.querySelector("[data-format]");
  const status = document.getElementById("format-status");
  if (!button) return;
  button.addEventListener("click", (event) => {
    event.preventDefault();
    const token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    fetch(textarea.dataset.formatUrl, {
      method: "POST",
      body: new FormData(form),
      headers: { "X-CSRFToken": token },
      credentials: "same-origin",
    })
      .then((response) => response.json())
      .then((data) => {
        if (data.sql !== undefined) {
          setValue(data.sql);
          status.textContent = "Formatted.";
        } else {
          status.textContent = data.error || "The query could not be formatted.";
        }
      })
      .catch(() => {
        status.textContent = "The server could not be reached.";
      });
  });
}
