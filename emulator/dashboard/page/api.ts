// The dashboard's JSON API as the page sees it (emulator/README.md describes it; the platform's
// own types are in emulator/dashboard/view.ts and history.ts, which the page cannot import:
// they are Node code). Every call is same-origin, so the token cookie, if any, goes along.

export interface ThingSummary {
  readonly id: number;
  readonly token: string;
  readonly activatedAt: number;
  readonly lastHeardAt: number | null;
  readonly online: boolean;
  readonly subscriptions: number;
  readonly acknowledgedAt: number | null;
  readonly values: number;
}

export interface ThingsList {
  readonly things: readonly ThingSummary[];
  readonly onlineRule: string;
}

export interface KeySummary {
  readonly key: string;
  readonly count: number;
  readonly latest: { readonly value: unknown; readonly datetime: number } | null;
}

export type OutputKind = "digital" | "pwm";

export interface ThingKeys {
  readonly keys: readonly KeySummary[];
  readonly more: boolean;
  readonly outputs: readonly { readonly key: string; readonly kind: OutputKind }[];
}

export interface History {
  readonly key: string;
  readonly window: string;
  readonly start: number;
  readonly end: number;
  readonly t: number[];
  readonly v: number[];
  readonly downsampled: boolean;
  readonly read: number;
  readonly notNumbers: number;
  readonly truncated: boolean;
}

export interface CodeSummary {
  readonly code: string;
  readonly used: boolean;
  readonly thing: number | null;
}

/** One stored value as the live stream sends it. */
export interface LiveItem {
  readonly key: string;
  readonly value: unknown;
  readonly datetime: number;
}

export interface LiveValues {
  readonly thing: number;
  readonly items: readonly LiveItem[];
  /** Values were left out (too many at once): reload the history. */
  readonly overflow: boolean;
}

/** A refusal from the API, with the message of its JSON body. */
export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(path, { ...init, credentials: "same-origin" });
  const text = await response.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    throw new ApiError(response.status, `unreadable answer (${response.status})`);
  }
  if (!response.ok) {
    const message = (body as { error?: unknown } | undefined)?.error;
    throw new ApiError(response.status, typeof message === "string" ? message : `HTTP ${response.status}`);
  }
  return body as T;
}

function post<T>(path: string, body: unknown): Promise<T> {
  return call<T>(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

export const api = Object.freeze({
  things: () => call<ThingsList>("/api/things"),
  keys: (thing: number) => call<ThingKeys>(`/api/things/${thing}/keys`),
  history: (thing: number, key: string, window: string) =>
    call<History>(`/api/things/${thing}/history?key=${encodeURIComponent(key)}&window=${window}`),
  csvUrl: (thing: number, key: string, window: string) =>
    `/api/things/${thing}/csv?key=${encodeURIComponent(key)}&window=${window}`,
  /** Writes one value through the platform's write path. */
  write: (thing: number, key: string, value: unknown) =>
    post<unknown>(`/api/things/${thing}/values`, { values: [{ key, value }] }),
  codes: () => call<{ codes: CodeSummary[] }>("/api/codes"),
  newCode: () => post<{ code: string }>("/api/codes", {}),
  eventsUrl: (thing: number | undefined) => (thing === undefined ? "/api/events" : `/api/events?thing=${thing}`),
});
