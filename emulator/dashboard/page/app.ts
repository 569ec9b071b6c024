// The dashboard page: the things list and activation codes on the side; for the selected thing
// its outputs (a switch or a slider each), a card per key and a "write a value" form. Live
// updates come as server-sent events for the selected thing; the selection is kept in the URL's
// fragment (#thing=ID), so a reload or a shared link opens the same thing.
import { api, type LiveItem, type LiveValues, type ThingKeys, type ThingsList } from "./api.js";
import { DigitalSwitch, PwmSlider } from "./controls.js";
import { byId, el, replaceChildren } from "./dom.js";
import { formatAgo, formatValue, parseTyped } from "./format.js";
import { KeyCard } from "./key-card.js";
import { renderCodes, ThingsList as ThingsListView, thingName } from "./sidebar.js";

const WINDOWS: Readonly<Record<string, { ms: number; label: string }>> = Object.freeze({
  "5m": { ms: 5 * 60_000, label: "5 min" },
  "1h": { ms: 60 * 60_000, label: "1 h" },
  "24h": { ms: 24 * 60 * 60_000, label: "24 h" },
});
const BOOT_KEY = "device.boot";
/** After the stream was refused (too many pages) or failed for good, try again this much later. */
const RECONNECT_MS = 5_000;

const live = byId<HTMLElement>("live");
const status = byId<HTMLElement>("status");
const windowSelect = byId<HTMLSelectElement>("window");
const thingView = byId<HTMLElement>("thing");
const noThing = byId<HTMLElement>("no-thing");
const outputsBox = byId<HTMLElement>("outputs");
const keysBox = byId<HTMLElement>("keys");

const things = new ThingsListView({ list: byId("things"), select: (id) => void select(id) });
const cards = new Map<string, KeyCard>();
const controls = new Map<string, DigitalSwitch | PwmSlider>();
let selected: number | undefined;
let source: EventSource | undefined;
let reconnect: number | undefined;
let keysReload: number | undefined;
// Bumped on every selection or window change: an answer for an older one is dropped.
let generation = 0;
let statusTimer: number | undefined;

function report(message: string, isError = false): void {
  status.textContent = message;
  status.dataset.error = String(isError);
  window.clearTimeout(statusTimer);
  statusTimer = window.setTimeout(() => (status.textContent = ""), isError ? 8_000 : 3_000);
}

function setLive(state: "connecting" | "live" | "error", text: string): void {
  live.dataset.state = state;
  live.textContent = text;
}

function windowChoice(): { name: string; ms: number; label: string } {
  const name = windowSelect.value in WINDOWS ? windowSelect.value : "5m";
  return { name, ...(WINDOWS[name] as { ms: number; label: string }) };
}

function selectedFromHash(): number | undefined {
  const match = /^#thing=(\d+)$/.exec(location.hash);
  return match === null ? undefined : Number(match[1]);
}

function showThings(list: ThingsList): void {
  things.update(list.things, selected);
  byId("online-rule").textContent = list.onlineRule;
  showThingStatus();
  if (selected === undefined && list.things.length > 0) void select((list.things[0] as { id: number }).id);
}

function showThingStatus(): void {
  const thing = things.things.find((t) => t.id === selected);
  if (thing === undefined) return;
  byId("thing-heading").textContent = `Thing ${thingName(thing)}`;
  const heard =
    thing.lastHeardAt === null
      ? "not heard from since the platform started"
      : `last heard ${formatAgo(thing.lastHeardAt, Date.now())}`;
  const state = byId("thing-status");
  replaceChildren(
    state,
    el(
      "span",
      { class: `badge ${thing.online ? "badge-online" : "badge-offline"}`, id: "thing-online" },
      thing.online ? "online" : "offline",
    ),
    ` ${heard} · ${thing.subscriptions} subscription${thing.subscriptions === 1 ? "" : "s"}`,
  );
}

async function select(id: number): Promise<void> {
  if (id === selected && cards.size > 0) return;
  selected = id;
  history.replaceState(null, "", `#thing=${id}`);
  things.update(things.things, selected);
  thingView.hidden = false;
  noThing.hidden = true;
  showThingStatus();
  connect();
  await loadThing();
}

/** Reads the selected thing's keys and outputs, builds its cards and reads their histories. */
async function loadThing(): Promise<void> {
  const thing = selected;
  if (thing === undefined) return;
  const mine = ++generation;
  let keys: ThingKeys;
  try {
    keys = await api.keys(thing);
  } catch (error) {
    report(`could not read the keys: ${(error as Error).message}`, true);
    return;
  }
  if (mine !== generation) return;
  showOutputs(thing, keys);
  for (const card of cards.values()) card.destroy();
  cards.clear();
  const choice = windowChoice();
  const built = keys.keys.map(
    (summary) =>
      new KeyCard({
        thing,
        summary,
        windowName: choice.name,
        windowMs: choice.ms,
        report,
        reload: (card) => void loadHistory(thing, card, mine),
      }),
  );
  // Charts first, then the keys shown as text; each group in key order.
  built.sort((a, b) => Number(b.charted) - Number(a.charted));
  for (const card of built) cards.set(card.key, card);
  replaceChildren(
    keysBox,
    ...(built.length === 0
      ? [el("p", { class: "empty" }, "This thing holds no value yet.")]
      : built.map((c) => c.element)),
    keys.more ? el("p", { class: "note" }, "More keys than the dashboard lists; the first 200 are shown.") : null,
  );
  // One history read at a time: the platform takes a few at once and there may be many keys.
  for (const card of built) {
    if (mine !== generation) return;
    if (card.charted) await loadHistory(thing, card, mine);
  }
}

async function loadHistory(thing: number, card: KeyCard, mine: number): Promise<void> {
  card.loading();
  try {
    const history = await api.history(thing, card.key, windowChoice().name);
    if (mine === generation) card.load(history);
  } catch (error) {
    report(`${card.key}: could not read the history: ${(error as Error).message}`, true);
  }
}

function showOutputs(thing: number, keys: ThingKeys): void {
  controls.clear();
  if (keys.outputs.length === 0) {
    replaceChildren(
      outputsBox,
      el("p", { class: "empty" }, "This device declares no outputs (its device.boot value has no outputs field)."),
    );
    return;
  }
  const latest = new Map(keys.keys.map((k) => [k.key, k.latest?.value]));
  const write = (key: string) => async (value: unknown) => {
    try {
      await api.write(thing, key, value);
      report(`wrote ${key} = ${formatValue(value)}`);
    } catch (error) {
      report(`${key}: ${(error as Error).message}`, true);
      throw error;
    }
  };
  const built = keys.outputs.map((output) => {
    const control =
      output.kind === "digital"
        ? new DigitalSwitch({ key: output.key, write: write(output.key) })
        : new PwmSlider({ key: output.key, write: write(output.key) });
    control.show(latest.get(output.key));
    controls.set(output.key, control);
    return control.element;
  });
  replaceChildren(outputsBox, ...built);
}

function onValues(data: LiveValues): void {
  if (data.thing !== selected) return;
  const byKey = new Map<string, LiveItem[]>();
  for (const item of data.items) {
    const list = byKey.get(item.key);
    if (list === undefined) byKey.set(item.key, [item]);
    else list.push(item);
  }
  let unknown = false;
  for (const [key, items] of byKey) {
    const card = cards.get(key);
    if (card === undefined) unknown = true;
    else card.add(items);
    const newest = items.reduce((a, b) => (b.datetime >= a.datetime ? b : a));
    controls.get(key)?.show(newest.value);
    if (key === BOOT_KEY) unknown = true;
  }
  // A new key, or a new declaration of outputs: read the keys again (once for a burst of them).
  if (unknown || data.overflow) {
    window.clearTimeout(keysReload);
    keysReload = window.setTimeout(() => void loadThing(), 500);
  }
}

/** Opens the live stream for the selected thing (closing the one before). */
function connect(): void {
  source?.close();
  window.clearTimeout(reconnect);
  setLive("connecting", "connecting…");
  const stream = new EventSource(api.eventsUrl(selected));
  source = stream;
  stream.addEventListener("open", () => setLive("live", "live"));
  stream.addEventListener("things", (event) => showThings(JSON.parse((event as MessageEvent<string>).data)));
  stream.addEventListener("codes", (event) =>
    renderCodes(byId("codes"), JSON.parse((event as MessageEvent<string>).data).codes),
  );
  stream.addEventListener("values", (event) => onValues(JSON.parse((event as MessageEvent<string>).data)));
  stream.addEventListener("error", () => {
    if (stream !== source) return;
    if (stream.readyState === EventSource.CLOSED) {
      // Refused (too many pages open, or the token is wrong): EventSource gives up; so try later.
      setLive("error", "live updates stopped; retrying");
      reconnect = window.setTimeout(connect, RECONNECT_MS);
    } else {
      setLive("connecting", "reconnecting…");
    }
  });
}

byId<HTMLButtonElement>("new-code").addEventListener("click", () => {
  api
    .newCode()
    .then(async ({ code }) => {
      report(`new activation code ${code}`);
      renderCodes(byId("codes"), (await api.codes()).codes);
    })
    .catch((error: unknown) => report(`could not make a code: ${(error as Error).message}`, true));
});

byId<HTMLFormElement>("write-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const keyInput = byId<HTMLInputElement>("write-key");
  const valueInput = byId<HTMLInputElement>("write-value");
  const thing = selected;
  if (thing === undefined) return;
  const value = parseTyped(valueInput.value);
  api
    .write(thing, keyInput.value.trim(), value)
    .then(() => {
      report(`wrote ${keyInput.value.trim()} = ${formatValue(value)}`);
      valueInput.value = "";
    })
    .catch((error: unknown) => report(`${keyInput.value.trim()}: ${(error as Error).message}`, true));
});

windowSelect.addEventListener("change", () => void loadThing());
window.matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
  for (const card of cards.values()) card.restyle();
});
window.addEventListener("hashchange", () => {
  const id = selectedFromHash();
  if (id !== undefined && id !== selected) void select(id);
});
window.setInterval(() => {
  things.render();
  showThingStatus();
}, 1_000);

async function start(): Promise<void> {
  // A ?token= on the first load has set the cookie; it need not stay in the address bar.
  if (location.search !== "") history.replaceState(null, "", `${location.pathname}${location.hash}`);
  const fromHash = selectedFromHash();
  try {
    const [list, codes] = await Promise.all([api.things(), api.codes()]);
    renderCodes(byId("codes"), codes.codes);
    const known = list.things.some((t) => t.id === fromHash);
    things.update(list.things, undefined);
    byId("online-rule").textContent = list.onlineRule;
    if (known && fromHash !== undefined) await select(fromHash);
    else if (list.things.length > 0) await select((list.things[0] as { id: number }).id);
    else connect();
  } catch (error) {
    setLive("error", "cannot reach the platform");
    report(`cannot reach the platform: ${(error as Error).message}`, true);
  }
}

void start();
