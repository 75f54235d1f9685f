// Result charts with Apache ECharts. The server computes the chart (executions/results/charts.py) and renders a
// <div data-chart="ID"> next to <script type="application/json" id="ID">{spec}</script>; this file draws every
// such div, again after htmx swaps one in, and offers PNG and SVG downloads.
import { BarChart, LineChart } from "echarts/charts";
import { DataZoomComponent, GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import * as echarts from "echarts/core";
import { CanvasRenderer, SVGRenderer } from "echarts/renderers";

echarts.use([BarChart, LineChart, GridComponent, TooltipComponent, LegendComponent, DataZoomComponent, CanvasRenderer, SVGRenderer]);

const LABEL_LIMIT = 22; // longer category names end in "…"; the tooltip and the data table show them whole
const numberFormat = new Intl.NumberFormat();

function shorten(text) {
  const value = String(text);
  return value.length > LABEL_LIMIT ? `${value.slice(0, LABEL_LIMIT - 1)}…` : value;
}

export function chartOption(spec) {
  const many = spec.labels.length > 12;
  const rotate = many || spec.labels.some((l) => String(l).length > 10) ? 35 : 0;
  const stacked = spec.stacked && spec.kind === "bar";
  return {
    animation: false,
    aria: { enabled: true },
    title: { show: false },
    legend: { show: spec.series.length > 1, type: "scroll", top: 0 },
    // drawn on the canvas: an HTML tooltip carries style attributes, which the CSP refuses
    tooltip: { trigger: "axis", renderMode: "richText", valueFormatter: (v) => (v == null ? "–" : numberFormat.format(v)) },
    grid: { left: 8, right: 16, top: spec.series.length > 1 ? 56 : 28, bottom: 28, containLabel: true },
    xAxis: {
      type: "category",
      data: spec.labels,
      name: rotate ? "" : spec.x_label, // slanted labels leave no room; the heading names the dimension
      nameLocation: "middle",
      nameGap: 30,
      axisLabel: {
        rotate,
        interval: spec.kind === "line" ? "auto" : 0,
        formatter: shorten,
        hideOverlap: true,
      },
      axisTick: { alignWithLabel: true },
    },
    yAxis: {
      type: "value",
      name: spec.y_label,
      axisLabel: { formatter: (v) => numberFormat.format(v) },
    },
    dataZoom: spec.labels.length > 60 ? [{ type: "inside" }, { type: "slider", height: 18, bottom: 4 }] : [],
    series: spec.series.map((s) => ({
      name: s.name,
      type: spec.kind,
      data: s.values,
      stack: stacked ? "total" : undefined,
      showSymbol: spec.kind === "line" && spec.labels.length <= 60,
      connectNulls: false,
    })),
  };
}

function download(name, url) {
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
}

function svgString(option, width, height) {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  chart.setOption(option);
  const svg = chart.renderToSVGString();
  chart.dispose();
  return svg;
}

function mount(node) {
  if (node.dataset.chartMounted) return;
  const source = document.getElementById(node.dataset.chart);
  if (!source) return;
  const spec = JSON.parse(source.textContent);
  node.dataset.chartMounted = "1";
  const chart = echarts.init(node, null, { renderer: "canvas" });
  const option = chartOption(spec);
  chart.setOption(option);
  new ResizeObserver(() => chart.resize()).observe(node);
  const name = spec.filename || "chart";
  const root = node.closest("[data-chart-root]") || node.parentElement;
  root.querySelectorAll("[data-chart-download]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => {
      if (button.dataset.chartDownload === "png") {
        download(`${name}.png`, chart.getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#fff" }));
      } else {
        const svg = svgString(option, node.clientWidth || 900, node.clientHeight || 400);
        download(`${name}.svg`, URL.createObjectURL(new Blob([svg], { type: "image/svg+xml" })));
      }
    });
  });
  window.RecomAMP = window.RecomAMP || {};
  const charts = (window.RecomAMP.charts = window.RecomAMP.charts || new Map());
  const previous = charts.get(node.dataset.chart); // the chart this one replaced in an htmx swap
  if (previous && previous !== chart) previous.dispose();
  charts.set(node.dataset.chart, chart);
}

function mountAll() {
  document.querySelectorAll("[data-chart]").forEach(mount);
}

mountAll();
document.addEventListener("htmx:afterSettle", mountAll);
