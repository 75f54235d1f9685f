// Date-range brush for dashboard charts (progressive enhancement over the From/To filter fields).
// Drag across a time-series chart: the windows under the selection become From (first window) and To (last
// window) and the filter form is submitted, which htmx turns into a swap of the dashboard (the URL is pushed, so
// the range stays bookmarkable). Double-click a chart to clear the range. Without JavaScript the fields still work.
// Charts carry where their windows sit (dashboards/charts.py: data-brush-*); listeners are delegated on the
// document, so charts swapped in by htmx need no re-binding. No style attribute is written (the CSP forbids it).
(function () {
  "use strict";

  const SVG_NS = "http://www.w3.org/2000/svg";
  const MIN_DRAG = 4; // viewBox units: less is a click, not a selection
  let drag = null;

  function filterForm() {
    return document.querySelector("form[data-dashboard-filters]");
  }

  function chartAt(target) {
    return target && target.closest ? target.closest("svg[data-brush-windows]") : null;
  }

  function windows(svg) {
    return svg.dataset.brushWindows.split(",");
  }

  function toViewBox(svg, clientX) {
    const box = svg.getBoundingClientRect();
    const width = (svg.viewBox && svg.viewBox.baseVal && svg.viewBox.baseVal.width) || box.width;
    return ((clientX - box.left) * width) / box.width;
  }

  function windowIndex(svg, x) {
    const left = Number(svg.dataset.brushLeft);
    const step = Number(svg.dataset.brushStep);
    const last = windows(svg).length - 1;
    if (!step || last <= 0) return 0;
    return Math.min(last, Math.max(0, Math.round((x - left) / step)));
  }

  function apply(from, to) {
    const form = filterForm();
    if (!form) return;
    form.elements.from.value = from;
    form.elements.to.value = to;
    // A real submit event: htmx handles it when the form has hx-get, the browser otherwise.
    if (form.requestSubmit) form.requestSubmit();
    else form.submit();
  }

  function draw(x) {
    const left = Math.min(drag.start, x);
    drag.rect.setAttribute("x", left.toFixed(1));
    drag.rect.setAttribute("width", Math.abs(x - drag.start).toFixed(1));
  }

  document.addEventListener("pointerdown", function (event) {
    const svg = chartAt(event.target);
    if (!svg || event.button !== 0 || !filterForm()) return;
    event.preventDefault();
    const x = toViewBox(svg, event.clientX);
    const top = Number(svg.dataset.brushTop);
    const rect = document.createElementNS(SVG_NS, "rect");
    rect.setAttribute("class", "brush-selection");
    rect.setAttribute("y", String(top));
    rect.setAttribute("height", String(Number(svg.dataset.brushBottom) - top));
    rect.setAttribute("fill", "#175cd3");
    rect.setAttribute("fill-opacity", "0.15");
    rect.setAttribute("stroke", "#175cd3");
    rect.setAttribute("pointer-events", "none");
    svg.appendChild(rect);
    drag = { svg: svg, start: x, rect: rect };
    draw(x);
    if (svg.setPointerCapture) svg.setPointerCapture(event.pointerId);
  });

  document.addEventListener("pointermove", function (event) {
    if (drag) draw(toViewBox(drag.svg, event.clientX));
  });

  function finish(event, cancelled) {
    if (!drag) return;
    const current = drag;
    drag = null;
    const x = toViewBox(current.svg, event.clientX);
    if (cancelled || Math.abs(x - current.start) < MIN_DRAG) {
      current.rect.remove();
      return;
    }
    const names = windows(current.svg);
    const first = windowIndex(current.svg, Math.min(current.start, x));
    const last = windowIndex(current.svg, Math.max(current.start, x));
    current.svg.setAttribute("aria-busy", "true");
    apply(names[first], names[last]);
  }

  document.addEventListener("pointerup", function (event) {
    finish(event, false);
  });
  document.addEventListener("pointercancel", function (event) {
    finish(event, true);
  });

  document.addEventListener("dblclick", function (event) {
    if (chartAt(event.target) && filterForm()) apply("", "");
  });
})();
