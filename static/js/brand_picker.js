// List picker: beside every ASIN or campaign list parameter (inputs with data-list-picker), choose a brand and
// fill the parameter with its list, or with a reference the server resolves at each run (brands/lists.py).
// Without this file the parameter stays a plain text input: paste the list or type the reference.
(function () {
  const config = document.getElementById("list-picker-config");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => node.setAttribute(k, v));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function splitList(text) {
    return text.split(/[,\n\r]+/).map((s) => s.trim()).filter(Boolean);
  }

  function enhance(input) {
    if (!config || input.dataset.pickerReady) return;
    input.dataset.pickerReady = "1";
    const kind = input.dataset.listPicker;
    const warnAt = Number(input.dataset.warn || 1000);
    const maxItems = Number(input.dataset.max || 4000);
    const box = el("div", { class: "list-picker", "data-picker-for": input.name });
    const brandSelect = el("select", { "aria-label": "Brand", "data-picker-brand": "" });
    brandSelect.append(el("option", { value: "" }, kind === "asins" ? "Fill from a brand's ASINs…" : "Fill from a brand's campaigns…"));
    const typeSelect = el("select", { "aria-label": "Campaign type", "data-picker-type": "" });
    ["", "SP", "SB", "SD", "DSP"].forEach((t) => typeSelect.append(el("option", { value: t }, t || "All types")));
    typeSelect.value = input.dataset.campaignType || "";
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
    input.insertAdjacentElement("afterend", box);
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
      const value = input.value.trim();
      if (/^brand:\d+:/.test(value)) {
        status.textContent = "Uses the brand's list as it is at each run.";
        return;
      }
      const n = splitList(value).length;
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

    fetch(config.dataset.brandsUrl, { credentials: "same-origin" }).then((r) => r.json()).then((json) => {
      json.brands.forEach((b) => brandSelect.append(el("option", { value: b.id }, `${b.name} (${b[kind]})`)));
    });
    brandSelect.addEventListener("change", () => {
      data = null;
      render();
      if (!brandSelect.value) return;
      const url = config.dataset.itemsUrl.replace("/0/", `/${brandSelect.value}/`) + `?kind=${kind}`;
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
      input.value = checkboxes().filter((c) => c.checked).map((c) => c.value).join(", ");
      input.dispatchEvent(new Event("input", { bubbles: true }));
      describeInput();
    });
    useReference.addEventListener("click", () => {
      const type = kind === "campaigns" && typeSelect.value ? `:${typeSelect.value}` : "";
      input.value = `${data.reference}${type}`;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      describeInput();
    });
    input.addEventListener("input", describeInput);
    describeInput();
  }

  function enhanceAll(root) {
    (root || document).querySelectorAll("[data-list-picker]").forEach(enhance);
  }

  // Discovery results: a "select all" checkbox for the rows.
  document.querySelectorAll("[data-select-all]").forEach((all) => {
    all.addEventListener("change", () => {
      document.querySelectorAll(`input[name="${all.dataset.selectAll}"]`).forEach((c) => { c.checked = all.checked; });
    });
  });
  enhanceAll();
  document.body.addEventListener("htmx:afterSwap", (event) => enhanceAll(event.target));
})();
