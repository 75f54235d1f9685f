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
