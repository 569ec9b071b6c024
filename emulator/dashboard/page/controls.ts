// A switch for each digital output and a slider for each PWM output the device declares. Each
// control's accessible name is its key. A control shows the key's latest value, read the way
// the device reads a command (device/command-values.ts: 1/0, true/false, "on"/"off"; a PWM
// number in [0, 1] is a fraction, in (1, 100] a percentage, "N%" a percentage), and writes
// through the API: 1 or 0 for a switch, "N%" for a slider (a percentage in every PWM scale).
import { el } from "./dom.js";

/** The level a digital command means, or undefined for anything else. */
export function digitalLevel(value: unknown): 0 | 1 | undefined {
  if (value === 1 || value === true) return 1;
  if (value === 0 || value === false) return 0;
  if (typeof value !== "string") return undefined;
  const text = value.trim().toLowerCase();
  if (text === "1" || text === "on" || text === "true") return 1;
  if (text === "0" || text === "off" || text === "false") return 0;
  return undefined;
}

/** The duty cycle a PWM command means, in percent, or undefined. */
export function pwmPercent(value: unknown): number | undefined {
  let amount: number;
  let percent = false;
  if (typeof value === "number") amount = value;
  else if (typeof value === "string") {
    let text = value.trim();
    if (text.endsWith("%")) {
      percent = true;
      text = text.slice(0, -1).trim();
    }
    if (!/^\+?(\d+(\.\d*)?|\.\d+)$/.test(text)) return undefined;
    amount = Number(text);
  } else return undefined;
  if (!Number.isFinite(amount) || amount < 0) return undefined;
  const result = percent || amount > 1 ? amount : amount * 100;
  return result <= 100 ? result : undefined;
}

export interface ControlOptions<T> {
  readonly key: string;
  /** Writes the new setting; a rejection puts the control back and is shown by the caller. */
  readonly write: (value: T) => Promise<void>;
}

export class DigitalSwitch {
  readonly element: HTMLElement;
  readonly #button: HTMLButtonElement;
  readonly #state: HTMLElement;
  #level: 0 | 1 | undefined;

  constructor(options: ControlOptions<0 | 1>) {
    this.#button = el(
      "button",
      { type: "button", role: "switch", "aria-checked": "false", "aria-label": options.key, class: "switch" },
      el("span", { class: "switch-thumb", "aria-hidden": "true" }),
    );
    this.#state = el("span", { class: "control-state", "aria-hidden": "true" }, "—");
    this.element = el(
      "div",
      { class: "control" },
      el("span", { class: "control-key" }, options.key),
      el("span", { class: "control-kind" }, "digital"),
      this.#button,
      this.#state,
    );
    this.#button.addEventListener("click", () => {
      const before = this.#level;
      const next = before === 1 ? 0 : 1;
      this.set(next);
      options.write(next).catch(() => this.set(before));
    });
  }

  /** Shows the key's latest value. */
  show(value: unknown): void {
    this.set(digitalLevel(value));
  }

  set(level: 0 | 1 | undefined): void {
    this.#level = level;
    this.#button.setAttribute("aria-checked", level === 1 ? "true" : "false");
    this.#state.textContent = level === undefined ? "—" : level === 1 ? "on" : "off";
  }
}

/** Writes wait this long after the last change, so a run of arrow keys sends one value. */
const SLIDER_SETTLE_MS = 150;

export class PwmSlider {
  readonly element: HTMLElement;
  readonly #input: HTMLInputElement;
  readonly #state: HTMLOutputElement;
  #sent: number | undefined;
  #held = false;
  #timer: number | undefined;

  constructor(options: ControlOptions<string>) {
    const id = `slider-${options.key.replace(/[^A-Za-z0-9_-]/g, "_")}`;
    this.#input = el("input", {
      type: "range",
      min: 0,
      max: 100,
      step: 1,
      value: 0,
      id,
      "aria-label": options.key,
      class: "slider",
    });
    this.#state = el("output", { for: id, class: "control-state" }, "—");
    this.element = el(
      "div",
      { class: "control" },
      el("span", { class: "control-key" }, options.key),
      el("span", { class: "control-kind" }, "PWM"),
      this.#input,
      this.#state,
    );
    this.#input.addEventListener("pointerdown", () => (this.#held = true));
    this.#input.addEventListener("pointerup", () => (this.#held = false));
    this.#input.addEventListener("input", () => (this.#state.textContent = `${this.#input.value} %`));
    this.#input.addEventListener("change", () => {
      window.clearTimeout(this.#timer);
      this.#timer = window.setTimeout(() => {
        const percent = Number(this.#input.value);
        const before = this.#sent;
        this.#sent = percent;
        options.write(`${percent}%`).catch(() => this.#display(before));
      }, SLIDER_SETTLE_MS);
    });
  }

  /** Shows the key's latest value, unless a person is holding the slider. */
  show(value: unknown): void {
    this.#display(pwmPercent(value));
  }

  #display(percent: number | undefined): void {
    this.#sent = percent;
    if (this.#held) return;
    if (percent === undefined) {
      this.#state.textContent = "—";
      return;
    }
    this.#input.value = String(Math.round(percent));
    this.#state.textContent = `${Math.round(percent * 10) / 10} %`;
  }
}
