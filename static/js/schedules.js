// Schedule form: show only the inputs the chosen repeat kind and date window use.
// Without this file every input stays visible, and the server ignores the ones that do not apply.
(function () {
  const form = document.getElementById("schedule-form");
  if (!form) return;

  function sync(name, attribute) {
    const chosen = form.querySelector(`[name="${name}"]:checked`) || form.querySelector(`select[name="${name}"]`);
    if (!chosen) return;
    form.querySelectorAll(`[${attribute}]`).forEach((element) => {
      element.hidden = !element.getAttribute(attribute).split(" ").includes(chosen.value);
    });
  }

  function syncAll() {
    sync("kind", "data-kinds");
    sync("window_kind", "data-windows");
  }

  form.addEventListener("change", syncAll);
  syncAll();
})();
