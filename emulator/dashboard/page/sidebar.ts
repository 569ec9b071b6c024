// The things list and the activation codes.
import type { CodeSummary, ThingSummary } from "./api.js";
import { el, replaceChildren } from "./dom.js";
import { formatAgo, formatCount, formatDateTime } from "./format.js";

export interface ThingsListOptions {
  readonly list: HTMLElement;
  readonly select: (thing: number) => void;
}

/** A thing as people see it: its token's first four characters and its id. */
export function thingName(thing: Pick<ThingSummary, "id" | "token">): string {
  return `${thing.token}… (#${thing.id})`;
}

export class ThingsList {
  readonly #list: HTMLElement;
  readonly #select: (thing: number) => void;
  #things: readonly ThingSummary[] = [];
  #selected: number | undefined;

  constructor(options: ThingsListOptions) {
    this.#list = options.list;
    this.#select = options.select;
  }

  get things(): readonly ThingSummary[] {
    return this.#things;
  }

  update(things: readonly ThingSummary[], selected: number | undefined): void {
    this.#things = things;
    this.#selected = selected;
    this.render();
  }

  /** Draws the list again (also every second, for "last heard … ago"). */
  render(): void {
    const now = Date.now();
    if (this.#things.length === 0) {
      replaceChildren(this.#list, el("li", { class: "empty" }, "No thing yet: activate one with a code below."));
      return;
    }
    // Drawn anew each time; a thing's button that had the focus gets it back.
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.thing;
    replaceChildren(this.#list, ...this.#things.map((thing) => this.#item(thing, now)));
    if (focused !== undefined) this.#list.querySelector<HTMLElement>(`[data-thing="${focused}"]`)?.focus();
  }

  #item(thing: ThingSummary, now: number): HTMLElement {
    const selected = thing.id === this.#selected;
    const button = el(
      "button",
      {
        type: "button",
        class: "thing",
        "aria-current": selected ? "true" : undefined,
        "data-thing": thing.id,
        "data-online": thing.online ? "true" : "false",
      },
      el(
        "span",
        { class: "thing-title" },
        el("span", { class: "thing-name" }, thingName(thing)),
        el(
          "span",
          { class: `badge ${thing.online ? "badge-online" : "badge-offline"}` },
          thing.online ? "online" : "offline",
        ),
      ),
      el(
        "span",
        { class: "thing-meta" },
        `last heard ${thing.lastHeardAt === null ? "not since the platform started" : formatAgo(thing.lastHeardAt, now)}`,
      ),
      el(
        "span",
        { class: "thing-meta" },
        `${formatCount(thing.values)} value${thing.values === 1 ? "" : "s"} · ${thing.subscriptions} subscription${
          thing.subscriptions === 1 ? "" : "s"
        }`,
      ),
      el("span", { class: "thing-meta" }, `activated ${formatDateTime(thing.activatedAt)}`),
    );
    button.addEventListener("click", () => this.#select(thing.id));
    return el("li", {}, button);
  }
}

export function renderCodes(list: HTMLElement, codes: readonly CodeSummary[]): void {
  if (codes.length === 0) {
    replaceChildren(list, el("li", { class: "empty" }, "No activation code."));
    return;
  }
  replaceChildren(
    list,
    ...codes.map((code) =>
      el(
        "li",
        { class: "code" },
        el("code", { class: "code-text" }, code.code),
        el(
          "span",
          { class: `badge ${code.used ? "badge-used" : "badge-unused"}` },
          code.used ? `used by #${code.thing ?? "?"}` : "unused",
        ),
      ),
    ),
  );
}
