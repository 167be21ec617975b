// Charts with uPlot: time series and per-hour bars that follow their
// container's width (phone or desktop).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { h } from "./dom";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
  bars?: boolean;
  /** Formats a value for the axis and the legend. */
  unit?: (v: number) => string;
}

export interface ChartSpec {
  title: string;
  /** X values: unix seconds (time) or plain numbers (hours). */
  xs: number[];
  series: Series[];
  /** Time axis (default) or plain numbers. */
  time?: boolean;
  /** A fixed x range, to share an axis between charts. */
  xRange?: [number, number];
  yMax?: number;
  height?: number;
}

const charts = new Set<uPlot>();

/** Drops the charts of the page being left. */
export function disposeCharts(): void {
  for (const c of charts) c.destroy();
  charts.clear();
}

export function chart(spec: ChartSpec): HTMLElement {
  const box = h("div", { class: "chart", "data-chart": spec.title });
  const wrap = h("figure", { class: "chart-figure" }, h("figcaption", {}, spec.title), box);
  const unit = spec.series[0]?.unit ?? ((v: number) => String(v));
  const opts: uPlot.Options = {
    width: 300,
    height: spec.height ?? 180,
    legend: { show: true },
    cursor: { drag: { x: false, y: false } },
    scales: {
      x: { time: spec.time !== false, ...(spec.xRange ? { range: (): uPlot.Range.MinMax => spec.xRange as [number, number] } : {}) },
      y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, spec.yMax ?? Math.max(1, max * 1.1)] },
    },
    axes: [
      { stroke: "#8a93a3", grid: { stroke: "#2a3140" }, ...(spec.time === false ? { values: (_u: uPlot, vs: number[]) => vs.map(String) } : {}) },
      { stroke: "#8a93a3", grid: { stroke: "#2a3140" }, size: 70, values: (_u: uPlot, vs: number[]) => vs.map(unit) },
    ],
    series: [
      {},
      ...spec.series.map((s) => ({
        label: s.label,
        stroke: s.color,
        width: 2,
        fill: s.bars ? s.color + "99" : undefined,
        paths: s.bars ? uPlot.paths.bars!({ size: [0.7, 40] }) : undefined,
        value: (_u: uPlot, v: number | null) => (v === null ? "–" : (s.unit ?? String)(v)),
      })),
    ],
  };
  // uPlot needs the box in the page to measure it: build after attach.
  requestAnimationFrame(() => {
    if (!box.isConnected) return;
    opts.width = Math.max(200, box.clientWidth);
    const u = new uPlot(opts, [spec.xs, ...spec.series.map((s) => s.values)] as uPlot.AlignedData, box);
    charts.add(u);
    new ResizeObserver(() => {
      if (box.clientWidth > 0) u.setSize({ width: Math.max(200, box.clientWidth), height: opts.height });
    }).observe(box);
  });
  return wrap;
}
