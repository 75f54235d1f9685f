// The SQL editor: CodeMirror 5 over the form's <textarea>. Without this file the textarea and its buttons still work.
(function () {
  "use strict";
  const textarea = document.querySelector("textarea[data-editor]");
  if (!textarea || typeof window.CodeMirror === "undefined") return;
  const CodeMirror = window.CodeMirror;
  const form = textarea.form;
  let annotations = [];

  // The server's diagnostics (1-based, exclusive end) as lint annotations (0-based positions).
  function readDiagnostics() {
    const node = document.getElementById("diagnostics-data");
    const list = node ? JSON.parse(node.textContent) : [];
    annotations = list.map((d) => ({
      from: CodeMirror.Pos(d.line - 1, d.column - 1),
      to: CodeMirror.Pos(d.end_line - 1, d.end_column - 1),
      message: d.message,
      severity: d.severity === "error" ? "error" : "warning",
    }));
  }

  // The workbench contract (static/js/workbench.js): Ctrl/Cmd-Enter runs, Shift-Enter checks; the page listens.
  function runNow(cm) {
    cm.save();
    document.dispatchEvent(new CustomEvent("workbench:run"));
  }
  function checkNow(cm) {
    cm.save();
    document.dispatchEvent(new CustomEvent("workbench:check"));
  }

  readDiagnostics();
  const editor = CodeMirror.fromTextArea(textarea, {
    mode: "text/x-sql",
    lineNumbers: true,
    matchBrackets: true,
    indentUnit: 2,
    tabSize: 2,
    gutters: ["CodeMirror-lint-markers", "CodeMirror-linenumbers"],
    lint: { getAnnotations: () => annotations, lintOnChange: false },
    hintOptions: { completeSingle: false, tables: {} },
    extraKeys: {
      "Ctrl-Enter": runNow,
      "Cmd-Enter": runNow,
      "Shift-Enter": checkNow,
      "Ctrl-Space": "autocomplete",
      "Ctrl-/": "toggleComment",
      "Cmd-/": "toggleComment",
      "Alt-G": "jumpToLine",
    },
  });
  form.classList.add("editor-enhanced");
  window.RecomAMP = window.RecomAMP || {};
  window.RecomAMP.editor = {
    getValue: () => editor.getValue(),
    setValue: (text) => editor.setValue(text),  // fires "change", which syncs the textarea
    focus: () => editor.focus(),
  };

  // Keep the textarea current and let htmx (hx-trigger="input changed delay:400ms") validate as the user types.
  editor.on("change", () => {
    editor.save();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  });

  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target && event.detail.target.id === "diagnostics") {
      readDiagnostics();
      editor.performLint();
    }
  });

  function jump(line, column) {
    const pos = CodeMirror.Pos(Math.max(0, line - 1), Math.max(0, column - 1));
    editor.focus();
    editor.setCursor(pos);
    editor.scrollIntoView(pos, 80);
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
      editor.replaceSelection(insert.dataset.insert);
      editor.focus();
    }
  });

  if (textarea.dataset.jumpLine) jump(Number(textarea.dataset.jumpLine), Number(textarea.dataset.jumpColumn || 1));

  // Autocomplete: table and column names from the catalog.
  fetch(textarea.dataset.hintsUrl, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((data) => {
      if (data) editor.setOption("hintOptions", { completeSingle: false, tables: data.tables });
    })
    .catch(() => {});

  // "Format SQL" in place; without JS the button posts the form and the page comes back formatted.
  const formatButton = form.querySelector("[data-format]");
  const status = document.getElementById("format-status");
  if (formatButton) {
    formatButton.addEventListener("click", (event) => {
      event.preventDefault();
      editor.save();
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
            editor.setValue(data.sql);
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
})();
