// Small progressive enhancements; every page works without this file.
document.addEventListener("htmx:responseError", (event) => {
  const status = event.detail.xhr.status;
  const box = document.createElement("div");
  box.className = "message message-error";
  box.setAttribute("role", "alert");
  box.textContent = `The server answered ${status}. Reload the page and try again.`;
  document.querySelector("main.container")?.prepend(box);
});
