// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const box = document.createElement("div");
  box.className = "message message-error";
  box.setAttribute("role", "alert");
  box.textContent = `The server answered ${status}. Reload the page and try again.`;
  document.querySelector("main.container")?.prepend(box);
});

// Pretty-print JSON kept in <script type="application/json"> blocks (no inline scripts under our CSP).
document.querySelectorAll("[data-json-from]").forEach((pre) => {
  const source = document.getElementById(pre.dataset.jsonFrom);
  if (source) pre.textContent = JSON.stringify(JSON.parse(source.textContent), null, 2);
});

// "Copy page": puts the visible result table on the clipboard as tab-separated text.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-copy-table]");
  if (!button) return;
  const table = document.querySelector(button.dataset.copyTable);
  if (!table) return;
  const text = [...table.rows].map((row) => [...row.cells].map((cell) => cell.innerText.split("\n")[0]).join("\t")).join("\n");
  navigator.clipboard.writeText(text).then(() => { button.textContent = "Copied"; });
});

// A relative time window (AMC's) has its own dates: hide the date pickers while one is chosen.
function syncWindowTypes() {
  document.querySelectorAll("select[data-window-type]").forEach((select) => {
    const prefix = select.name.replace(/window_type$/, "");
    ["start_date", "end_date"].forEach((name) => {
      const input = select.form && select.form.elements[prefix + name];
      const box = input && (input.closest("[data-explicit-only]") || input.closest(".field"));
      if (box) box.style.display = select.value === "EXPLICIT" ? "" : "none";
    });
  });
}
document.addEventListener("change", (event) => {
  if (event.target.matches("select[data-window-type]")) syncWindowTypes();
});
document.addEventListener("htmx:afterSettle", syncWindowTypes);
syncWindowTypes();
