// List picker: choose a brand and fill a list parameter with its ASINs or campaigns, or with a reference the
// server resolves at each run (brands/lists.py). Mounts on
//   - an input with data-list-picker="asins|campaigns" (the picker goes right after it), or
//   - any element [data-brand-picker data-param="asins" data-kind="asins|campaigns"] (the picker goes inside
//     it) filling the form field named data-param; with data-target="parameters" it writes the line
//     `asins=…` of that name=value textarea instead (the run-set form). Optional: data-campaign-type,
//     data-warn, data-max, data-brands-url and data-items-url (else #list-picker-config's).
// Elements added later are mounted after an htmx swap, or by window.BrandPicker.mountAll(root).
// Without this file the parameter stays a plain text field: paste the list or type the reference.
(function () {
  const defaults = document.getElementById("list-picker-config");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function splitList(text) {
    return text.split(/[,\n\r]+/).map((s) => s.trim()).filter(Boolean);
  }

  function targetFor(node) {
    if (node.matches("input, textarea")) return node;
    const name = node.dataset.target || node.dataset.param;
    const scope = node.closest("form") || document;
    return name ? scope.querySelector(`[name="${CSS.escape(name)}"]`) : null;
  }

  function enhance(node) {
    if (node.dataset.pickerReady) return;
    const input = targetFor(node);
    const config = {
      brandsUrl: node.dataset.brandsUrl || (defaults && defaults.dataset.brandsUrl),
      itemsUrl: node.dataset.itemsUrl || (defaults && defaults.dataset.itemsUrl),
    };
    if (!input || !config.brandsUrl || !config.itemsUrl) return;
    node.dataset.pickerReady = "1";
    const kind = node.dataset.kind || node.dataset.listPicker || "asins";
    const param = node.dataset.param || input.name;
    const lines = input.name !== param; // a name=value textarea: the picker owns the `param=` line
    const setting = (name) => node.dataset[name] || input.dataset[name];
    const warnAt = Number(setting("warn") || 1000);
    const maxItems = Number(setting("max") || 4000);
    const isParamLine = (l) => l.includes("=") && l.slice(0, l.indexOf("=")).trim() === param;
    function current() {
      if (!lines) return input.value.trim();
      const line = input.value.split(/\r?\n/).find(isParamLine);
      return line ? line.slice(line.indexOf("=") + 1).trim() : "";
    }
    function fill(value) {
      if (lines) {
        const kept = input.value.split(/\r?\n/).filter((l) => l.trim() && !isParamLine(l));
        input.value = [...kept, `${param}=${value}`].join("\n");
      } else {
        input.value = value;
      }
      input.dispatchEvent(new Event("input", { bubbles: true }));
      describeInput();
    }
    const box = el("div", { class: "list-picker", "data-picker-for": param });
    const brandSelect = el("select", { "aria-label": "Brand", "data-picker-brand": "" });
    brandSelect.append(el("option", { value: "" }, kind === "asins" ? "Fill from a brand's ASINs…" : "Fill from a brand's campaigns…"));
    const typeSelect = el("select", { "aria-label": "Campaign type", "data-picker-type": "" });
    ["", "SP", "SB", "SD", "DSP"].forEach((t) => typeSelect.append(el("option", { value: t }, t || "All types")));
    typeSelect.value = setting("campaignType") || "";
    typeSelect.hidden = kind !== "campaigns";
    const search = el("input", { type: "search", placeholder: "Search", "aria-label": "Search the list", hidden: "" });
    const selectAllLabel = el("label", { hidden: "" });
    const selectAll = el("input", { type: "checkbox", "data-picker-all": "" });
    selectAllLabel.append(selectAll, document.createTextNode(" Select all"));
    const items = el("div", { class: "list-picker-items" });
    const useSelected = el("button", { type: "button", class: "btn btn-small", "data-picker-fill": "", hidden: "" }, "Use selected");
    const useReference = el("button", { type: "button", class: "btn btn-small", "data-picker-reference": "", hidden: "" },
      "Always use the brand's current list");
    const status = el("small", { class: "help", "data-picker-count": "" });
    box.append(brandSelect, typeSelect, search, selectAllLabel, useSelected, useReference, items, status);
    if (node === input) input.insertAdjacentElement("afterend", box);
    else node.append(box);
    let data = null;

    function checkboxes() {
      return Array.from(items.querySelectorAll("input[type=checkbox]"));
    }
    function visible() {
      return checkboxes().filter((c) => !c.closest("label").hidden);
    }
    function count() {
      const chosen = checkboxes().filter((c) => c.checked).length;
      status.textContent = `${chosen} of ${checkboxes().length} selected`;
    }
    function describeInput() {
      const value = current();
      if (/^brand:\d+:/.test(value)) {
        status.textContent = "Uses the brand's list as it is at each run.";
        return;
      }
      const n = value ? splitList(value).length : 0;
      let text = `${n} item${n === 1 ? "" : "s"}`;
      if (n > maxItems) text += ` — more than the ${maxItems} allowed; the run will be refused.`;
      else if (n >= warnAt) text += ` — a long list (${warnAt}+): check it is the one you mean.`;
      status.textContent = text;
    }
    function render() {
      items.replaceChildren();
      if (!data) return;
      const type = typeSelect.value;
      const matching = data.items.filter((i) => kind !== "campaigns" || !type || i.type === type);
      // A list past the maximum cannot be sent as values anyway: show that many, and offer the reference.
      matching.slice(0, maxItems).forEach((item) => {
        const label = el("label", { class: "list-picker-item" });
        const box = el("input", { type: "checkbox", value: item.value, checked: "" });
        label.append(box, document.createTextNode(` ${item.value}${item.label ? " — " + item.label : ""}`));
        items.append(label);
      });
      selectAll.checked = true;
      [search, selectAllLabel, useSelected, useReference].forEach((n) => { n.hidden = false; });
      count();
      if (matching.length > maxItems) {
        status.textContent += ` — only the first ${maxItems} of ${matching.length} are shown; a list this long cannot be sent as values.`;
      }
    }

    fetch(config.brandsUrl, { credentials: "same-origin" }).then((r) => r.json()).then((json) => {
      json.brands.forEach((b) => brandSelect.append(el("option", { value: b.id }, `${b.name} (${b[kind]})`)));
    });
    brandSelect.addEventListener("change", () => {
      data = null;
      render();
      if (!brandSelect.value) return;
      const url = config.itemsUrl.replace("/0/", `/${brandSelect.value}/`) + `?kind=${kind}`;
      fetch(url, { credentials: "same-origin" }).then((r) => r.json()).then((json) => { data = json; render(); });
    });
    typeSelect.addEventListener("change", render);
    search.addEventListener("input", () => {
      const term = search.value.trim().toLowerCase();
      checkboxes().forEach((c) => { c.closest("label").hidden = term && !c.closest("label").textContent.toLowerCase().includes(term); });
    });
    selectAll.addEventListener("change", () => { visible().forEach((c) => { c.checked = selectAll.checked; }); count(); });
    items.addEventListener("change", count);
    useSelected.addEventListener("click", () => {
      fill(checkboxes().filter((c) => c.checked).map((c) => c.value).join(", "));
    });
    useReference.addEventListener("click", () => {
      const type = kind === "campaigns" && typeSelect.value ? `:${typeSelect.value}` : "";
      fill(`${data.reference}${type}`);
    });
    input.addEventListener("input", describeInput);
    describeInput();
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("[data-list-picker], [data-brand-picker]").forEach(enhance);
  }
  window.BrandPicker = { mount: enhance, mountAll: enhanceAll };

  // Discovery results: a "select all" checkbox for the rows.
  document.querySelectorAll("[data-select-all]").forEach((all) => {
    all.addEventListener("change", () => {
      document.querySelectorAll(`input[name="${all.dataset.selectAll}"]`).forEach((c) => { c.checked = all.checked; });
    });
  });
  enhanceAll();
  document.body.addEventListener("htmx:afterSwap", (event) => enhanceAll(event.target));
})();
