// One key's time series, drawn by uPlot (loaded from node_modules by a script tag, a global).
// The x axis spans the chosen window up to now; live values are appended as they arrive and
// values that leave the window are dropped, so a chart holds at most what its window shows.
import { el } from "./dom.js";

/** Past this many points a live chart asks for its history again (downsampled by the platform). */
export const MAX_LIVE_POINTS = 4_000;
const HEIGHT = 170;

export interface ChartOptions {
  readonly key: string;
  readonly windowMs: number;
  readonly windowName: string;
}

function cssColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === "" ? fallback : value;
}

export class TimeChart {
  readonly element: HTMLElement;
  readonly #key: string;
  readonly #windowMs: number;
  readonly #windowName: string;
  #t: number[] = [];
  #v: number[] = [];
  #plot: uPlot | undefined;
  readonly #resize: ResizeObserver;

  constructor(options: ChartOptions) {
    this.#key = options.key;
    this.#windowMs = options.windowMs;
    this.#windowName = options.windowName;
    this.element = el("div", { class: "chart", role: "img", "aria-label": `${options.key}: no values yet` });
    this.#resize = new ResizeObserver(() => this.#fit());
    this.#resize.observe(this.element);
  }

  /** How many points it draws. */
  get points(): number {
    return this.#t.length;
  }

  /** Replaces the series: milliseconds and values, ascending in time. */
  load(t: readonly number[], v: readonly number[]): void {
    this.#t = t.map((ms) => ms / 1000);
    this.#v = [...v];
    this.#draw();
  }

  /** Adds live values; false when the chart holds too many and wants its history reloaded. */
  append(items: readonly { datetime: number; value: number }[]): boolean {
    for (const item of items) {
      const t = item.datetime / 1000;
      // Live values nearly always come in order; one that does not is put in its place.
      let at = this.#t.length;
      while (at > 0 && (this.#t[at - 1] as number) > t) at--;
      this.#t.splice(at, 0, t);
      this.#v.splice(at, 0, item.value);
    }
    const start = (Date.now() - this.#windowMs) / 1000;
    let old = 0;
    while (old < this.#t.length && (this.#t[old] as number) < start) old++;
    if (old > 0) {
      this.#t.splice(0, old);
      this.#v.splice(0, old);
    }
    this.#draw();
    return this.#t.length <= MAX_LIVE_POINTS;
  }

  /** Draws again with the current colours (after a light/dark switch). */
  restyle(): void {
    this.#plot?.destroy();
    this.#plot = undefined;
    this.#draw();
  }

  destroy(): void {
    this.#resize.disconnect();
    this.#plot?.destroy();
    this.#plot = undefined;
  }

  #draw(): void {
    this.element.setAttribute(
      "aria-label",
      `${this.#key} over the last ${this.#windowName}: ${this.#t.length} point${this.#t.length === 1 ? "" : "s"}`,
    );
    this.element.dataset.points = String(this.#t.length);
    const data: uPlot.AlignedData = [this.#t, this.#v];
    if (this.#plot === undefined) {
      const width = this.element.clientWidth;
      if (width === 0) return;
      this.#plot = new uPlot(this.#options(width), data, this.element);
    } else {
      this.#plot.setData(data);
    }
  }

  #fit(): void {
    const width = this.element.clientWidth;
    if (width === 0) return;
    if (this.#plot === undefined) this.#draw();
    else this.#plot.setSize({ width, height: HEIGHT });
  }

  #options(width: number): uPlot.Options {
    const line = cssColor("--chart-line", "#2563eb");
    const axis = cssColor("--muted", "#6b7280");
    const grid = cssColor("--chart-grid", "rgba(128,128,128,0.15)");
    const windowMs = this.#windowMs;
    return {
      width,
      height: HEIGHT,
      legend: { show: false },
      cursor: { drag: { x: false, y: false }, points: { size: 6 } },
      scales: {
        x: { time: true, range: () => [(Date.now() - windowMs) / 1000, Date.now() / 1000] },
      },
      axes: [
        { stroke: axis, space: 55, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
        { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 56 },
      ],
      series: [
        {},
        {
          label: this.#key,
          stroke: line,
          width: 1.5,
          fill: cssColor("--chart-fill", "rgba(37,99,235,0.08)"),
          points: { show: this.#t.length < 60, size: 4, fill: line },
        },
      ],
    };
  }
}
