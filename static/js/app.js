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
