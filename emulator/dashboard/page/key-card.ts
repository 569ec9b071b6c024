// A card per key: its latest value and datetime, a chart when it holds numbers, a CSV download
// and a "write a value" form that writes through the platform's write path.
import { api, type History, type KeySummary, type LiveItem } from "./api.js";
import { MAX_LIVE_POINTS, TimeChart } from "./chart.js";
import { el, replaceChildren } from "./dom.js";
import { formatCount, formatTime, formatValue, parseTyped } from "./format.js";

export interface KeyCardOptions {
  readonly thing: number;
  readonly summary: KeySummary;
  readonly windowName: string;
  readonly windowMs: number;
  /** Shows a message in the page's status line. */
  readonly report: (message: string, isError: boolean) => void;
  /** The chart holds too many live points: reload its history. */
  readonly reload: (card: KeyCard) => void;
}

export class KeyCard {
  readonly key: string;
  readonly element: HTMLElement;
  readonly #thing: number;
  readonly #latest: HTMLElement;
  readonly #when: HTMLTimeElement;
  readonly #count: HTMLElement;
  readonly #note: HTMLElement;
  readonly #report: KeyCardOptions["report"];
  readonly #reload: KeyCardOptions["reload"];
  readonly #windowName: string;
  readonly #windowMs: number;
  #chart: TimeChart | undefined;
  #values: number;
  #latestAt = Number.NEGATIVE_INFINITY;
  // Live numbers that came while the history was on its way (bounded by the live chart's own cap).
  #early: { datetime: number; value: number }[] | undefined;

  constructor(options: KeyCardOptions) {
    const { summary } = options;
    this.key = summary.key;
    this.#thing = options.thing;
    this.#report = options.report;
    this.#reload = options.reload;
    this.#windowName = options.windowName;
    this.#windowMs = options.windowMs;
    this.#values = summary.count;
    this.#latest = el("span", { class: "latest-value" });
    this.#when = el("time", { class: "latest-time" });
    this.#count = el("span", { class: "count" });
    this.#note = el("p", { class: "chart-note" });
    const csv = el(
      "a",
      {
        class: "csv",
        href: api.csvUrl(options.thing, summary.key, options.windowName),
        download: `thing-${options.thing}-${summary.key}.csv`,
        "aria-label": `Download ${summary.key} (last ${options.windowName}) as CSV`,
      },
      "CSV",
    );
    const input = el("input", {
      type: "text",
      name: "value",
      placeholder: "value (number, text or JSON)",
      "aria-label": `Value to write to ${summary.key}`,
      autocomplete: "off",
      required: true,
    });
    const form = el(
      "form",
      { class: "write-form", "aria-label": `Write a value to ${summary.key}` },
      input,
      el("button", { type: "submit", class: "button" }, "Write"),
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = parseTyped(input.value);
      api
        .write(this.#thing, this.key, value)
        .then(() => {
          this.#report(`wrote ${this.key} = ${formatValue(value)}`, false);
          input.value = "";
        })
        .catch((error: unknown) => this.#report(`${this.key}: ${String((error as Error).message)}`, true));
    });
    this.element = el(
      "article",
      { class: "card key-card", "data-key": summary.key },
      el(
        "header",
        { class: "card-header" },
        el("h3", { class: "key-name" }, summary.key),
        el("span", { class: "card-actions" }, this.#count, csv),
      ),
      el("div", { class: "latest" }, this.#latest, this.#when),
    );
    if (typeof summary.latest?.value === "number") {
      this.#chart = new TimeChart({ key: summary.key, windowMs: options.windowMs, windowName: options.windowName });
      this.element.append(this.#chart.element, this.#note);
    }
    this.element.append(form);
    this.#show(summary.latest);
  }

  /** Whether it draws a chart (its latest value was a number when the page loaded it). */
  get charted(): boolean {
    return this.#chart !== undefined;
  }

  /** The history is being read: live values wait for it rather than being drawn over. */
  loading(): void {
    if (this.#chart !== undefined) this.#early = [];
  }

  /** Its history for the window, from the platform. */
  load(history: History): void {
    if (this.#chart === undefined) return;
    this.#chart.load(history.t, history.v);
    const early = this.#early ?? [];
    this.#early = undefined;
    const last = history.t.at(-1) ?? Number.NEGATIVE_INFINITY;
    const later = early.filter((item) => item.datetime > last);
    if (later.length > 0) this.#chart.append(later);
    const notes: string[] = [];
    if (history.downsampled) notes.push(`${formatCount(history.read)} values, shown as min/max per interval`);
    if (history.truncated) notes.push("only the newest values of the window were read");
    if (history.notNumbers > 0) notes.push(`${formatCount(history.notNumbers)} non-numeric values not drawn`);
    replaceChildren(this.#note, notes.join("; "));
  }

  /** Live values of this key. */
  add(items: readonly LiveItem[]): void {
    this.#values += items.length;
    const newest = items.reduce((a, b) => (b.datetime >= a.datetime ? b : a));
    if (newest.datetime >= this.#latestAt) this.#show(newest);
    else this.#show(undefined);
    if (this.#chart === undefined) return;
    const numbers: { datetime: number; value: number }[] = [];
    for (const item of items)
      if (typeof item.value === "number") numbers.push({ datetime: item.datetime, value: item.value });
    if (numbers.length === 0) return;
    if (this.#early !== undefined) {
      if (this.#early.length + numbers.length <= MAX_LIVE_POINTS) this.#early.push(...numbers);
      return;
    }
    if (!this.#chart.append(numbers)) this.#reload(this);
  }

  restyle(): void {
    this.#chart?.restyle();
  }

  destroy(): void {
    this.#chart?.destroy();
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  /** Shows the count, and `latest` as the latest value (undefined: keep the one shown). */
  #show(latest: { value: unknown; datetime: number } | null | undefined): void {
    this.#count.textContent = `${formatCount(this.#values)} value${this.#values === 1 ? "" : "s"}`;
    if (latest === undefined) return;
    if (latest === null) {
      this.#latest.textContent = "—";
      return;
    }
    this.#latestAt = latest.datetime;
    this.#latest.textContent = formatValue(latest.value);
    this.#latest.classList.toggle("is-text", typeof latest.value !== "number");
    this.#when.dateTime = new Date(latest.datetime).toISOString();
    this.#when.textContent = formatTime(latest.datetime);
  }
}
