// The setup portal: the page a person fills in on first boot, after a refused code or token, on
// demand, or while the stored Wi-Fi cannot be joined. It exists only while setup runs: nothing
// of it is allocated before open() (the module's code stays in flash). It serves the page, the
// status document and "Forget this device" over http/server.ts, and carries out a submission in
// steps (joining Wi-Fi → activating → subscribed) through the device (SetupActions), which tells
// it each outcome. On the board it runs beside the access point and redirects every unknown path
// (phones' captive-portal checks) to the page; elsewhere unknown paths are 404.
import { parseForm } from "../http/form.js";
import type { HttpRequest } from "../http/request-parser.js";
import { errorResponse, type HttpResponse } from "../http/response.js";
import { HttpServer } from "../http/server.js";
import type { ListenTcp } from "../http/tcp-port.js";
import type { Clock, TimerHandle } from "../kernel/clock.js";
import type { LogSink } from "../kernel/log.js";
import { checkSetupForm, type FormField } from "./setup-form.js";
import { type PageView, renderPage, renderStatus, type SetupStatus, type StepState } from "./setup-page.js";
import type { AccessPoint, JoinOutcome, SetupRadio, WifiNetwork } from "./setup-radio.js";
import type { EnteredSettings } from "./setup-store.js";

export type SetupReason =
  | "no-code"
  | "refused"
  | "token-refused"
  | "requested"
  | "always"
  | "no-wifi"
  | "wifi-unreachable"
  | "forgotten"
  | "done";

const REASON_TEXT: Readonly<Record<SetupReason, string>> = Object.freeze({
  "no-code": "This device has no activation code yet.",
  refused: "The platform refused the activation code.",
  "token-refused": "The platform no longer accepts this device's thing token: give it a new activation code.",
  requested: "Setup was asked for.",
  always: "This device opens setup at every start (setup=always).",
  "no-wifi": "This device has no Wi-Fi network yet.",
  "wifi-unreachable": "The Wi-Fi network cannot be joined now; the device keeps trying meanwhile.",
  forgotten: "This device was forgotten.",
  done: "This device is set up.",
});

/** What the portal asks of the device; the device answers through the portal's methods. */
export interface SetupActions {
  /** The thing token in use, if any (only its first characters are shown). */
  token(): string | undefined;
  /** The server in use (coap://host:port). */
  server(): string;
  /** A code must be given (no token, or a refused one). */
  codeRequired(): boolean;
  /** Keeps what was entered (only changed values are written). */
  store(values: EnteredSettings): void;
  /** Points the device at another server. */
  retarget(server: string): void;
  /** Activates with this code; the outcome comes back as activated() or refused(). */
  activate(code: string, productId: string | undefined): void;
  /** Erases the token, the Wi-Fi credentials, the entered values and the values waiting to be sent. */
  forget(): void;
}

export interface SetupPortalOptions {
  readonly listen: ListenTcp;
  readonly port: number;
  readonly clock: Clock;
  readonly log: LogSink;
  readonly actions: SetupActions;
  /** The board's Wi-Fi (access point, scan, station); absent in the simulator and on the PC. */
  readonly radio?: SetupRadio;
  /** The access point's WPA2 passphrase (setupPassword); open without. */
  readonly accessPointPassword?: string;
  /** After the outcome "subscribed", the portal stays this long so the page can show it. */
  readonly closeAfterMs?: number;
  /** Called once the portal is reachable, with its address. */
  readonly onOpen?: (url: string) => void;
  /** Called when the portal closed by itself (setup is done). */
  readonly onClosed?: () => void;
}

const STEPS = Object.freeze(["wifi", "activate", "subscribe"] as const);
type Step = (typeof STEPS)[number];
/** Fields a form may hold; beyond that it is malformed. */
const MAX_FORM_FIELDS = 8;

export class SetupPortal {
  readonly #options: SetupPortalOptions;
  readonly #server: HttpServer;
  #reason: SetupReason;
  #phase: SetupStatus["phase"] = "idle";
  /** Bound: one state per step. */
  #steps: Record<Step, StepState> = { wifi: "pending", activate: "pending", subscribe: "pending" };
  #message = "Fill in the form to connect this device.";
  #error: string | undefined;
  #accessPoint: AccessPoint | undefined;
  /** The last scan, strongest first. Bound: MAX_NETWORKS. */
  #networks: readonly WifiNetwork[] = [];
  #scanning = false;
  #closeTimer: TimerHandle | undefined;
  #closed = false;
  /** Monotonic time of the last request (or of the portal's making): how long it stood idle. */
  #lastRequestAt: number;

  static readonly MAX_NETWORKS = 20;

  constructor(options: SetupPortalOptions & { readonly reason: SetupReason; readonly error?: string }) {
    this.#options = options;
    this.#reason = options.reason;
    this.#error = options.error;
    this.#lastRequestAt = options.clock.now();
    this.#server = new HttpServer({
      listen: options.listen,
      port: options.port,
      clock: options.clock,
      log: options.log,
      handler: (request) => {
        this.#lastRequestAt = options.clock.now();
        return this.#handle(request);
      },
    });
  }

  get reason(): SetupReason {
    return this.#reason;
  }

  /** Monotonic time of the last request served, a phone's captive-portal check included. */
  get lastRequestAt(): number {
    return this.#lastRequestAt;
  }

  /** A submission is being carried out. */
  get busy(): boolean {
    return this.#phase === "working";
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The HTTP server's counters (tests, the memory report). */
  get http(): HttpServer {
    return this.#server;
  }

  /** Opens the access point (board) and the page; resolves the page's address. */
  async open(): Promise<string> {
    const { radio, log } = this.#options;
    let host = "127.0.0.1";
    if (radio !== undefined) {
      this.#accessPoint = radio.openAccessPoint(this.#options.accessPointPassword);
      host = this.#accessPoint.address;
      log("info", `setup: access point ${JSON.stringify(this.#accessPoint.ssid)} at ${host}`);
      this.#scan();
    }
    const port = await this.#server.listen();
    const url = `http://${host}${port === 80 ? "" : `:${port}`}/`;
    log("info", `setup: page at ${url} (${REASON_TEXT[this.#reason]})`);
    this.#options.onOpen?.(url);
    return url;
  }

  /** Setup is needed for another reason (a refused token while open on demand): shown on the page. */
  reopen(reason: SetupReason, error?: string): void {
    this.#reason = reason;
    if (error !== undefined) this.#error = error;
    this.#cancelClose();
    if (this.#phase === "done") this.#phase = "idle";
  }

  /** The device activated: the token's first characters go on the page. */
  activated(token: string): void {
    this.#set("activate", "done");
    this.#set("subscribe", "active");
    this.#error = undefined;
    this.#message = `Activated: thing token ${token.slice(0, 4)}… stored`;
  }

  /** Activation was refused; `message` is the platform's, shown verbatim. The code is not retried. */
  refused(message: string): void {
    this.#set("activate", "failed");
    this.#phase = "failed";
    this.#reason = "refused";
    this.#error = message;
    this.#message = "The activation code was refused: check it and try again.";
  }

  /** Activation could not reach the platform this time; provisioning retries by itself. */
  activationProblem(detail: string): void {
    if (this.#steps.activate !== "active") return;
    this.#message = `Activating… the platform did not answer yet (${detail}); trying again.`;
  }

  /** The subscription is up: setup is done and the portal closes after closeAfterMs. */
  subscribed(): void {
    if (this.#phase === "done" || (this.#phase !== "working" && this.#steps.activate !== "done")) return;
    this.#set("subscribe", "done");
    this.#phase = "done";
    this.#reason = "done";
    if (!this.#message.startsWith("Activated")) this.#message = "Connected: the device is at work.";
    this.#message += " — this page closes shortly.";
    this.#scheduleClose(this.#options.closeAfterMs ?? 15_000);
  }

  /** Stops the page and the access point; safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#cancelClose();
    this.#server.close();
    if (this.#accessPoint !== undefined) this.#options.radio?.closeAccessPoint();
    this.#accessPoint = undefined;
    this.#networks = [];
    this.#options.log("info", "setup: closed");
  }

  status(): SetupStatus {
    const { actions, radio } = this.#options;
    const token = actions.token();
    return {
      phase: this.#phase,
      reason: REASON_TEXT[this.#reason],
      steps: STEPS.filter((step) => step !== "wifi" || radio !== undefined).map((step) => ({
        step,
        state: this.#steps[step],
      })),
      message: this.#message,
      error: this.#error,
      token: token === undefined ? undefined : `${token.slice(0, 4)}…`,
      server: actions.server(),
      ssid: radio?.ssid,
      networks: this.#networks,
    };
  }

  #set(step: Step, state: StepState): void {
    this.#steps[step] = state;
  }

  #scheduleClose(ms: number): void {
    this.#cancelClose();
    this.#closeTimer = this.#options.clock.setTimer(() => {
      this.#closeTimer = undefined;
      this.close();
      this.#options.onClosed?.();
    }, ms);
  }

  #cancelClose(): void {
    if (this.#closeTimer !== undefined) this.#options.clock.clearTimer(this.#closeTimer);
    this.#closeTimer = undefined;
  }

  #scan(): void {
    const radio = this.#options.radio;
    if (radio === undefined || this.#scanning || this.#closed) return;
    this.#scanning = true;
    radio.scan().then(
      (networks) => {
        this.#scanning = false;
        if (!this.#closed) this.#networks = Object.freeze(networks.slice(0, SetupPortal.MAX_NETWORKS));
      },
      (error: unknown) => {
        this.#scanning = false;
        this.#options.log("warn", `setup: Wi-Fi scan failed (${String(error)})`);
      },
    );
  }

  #handle(request: HttpRequest): HttpResponse {
    const path = request.path;
    const ap = this.#accessPoint;
    const hostName = request.host.startsWith("[") ? request.host : request.host.split(":")[0];
    // Captive portal: a phone's connectivity check (any host, any path) is sent to the page.
    if (ap !== undefined && hostName !== ap.address) return redirect(`http://${ap.address}/`, 302);
    if (path === "/") {
      if (request.method === "GET" || request.method === "HEAD") return this.#page({}, {}, request.query);
      if (request.method === "POST") return this.#submit(request);
      return notAllowed("GET, HEAD, POST");
    }
    if (path === "/status") {
      if (request.method !== "GET" && request.method !== "HEAD") return notAllowed("GET, HEAD");
      return { status: 200, contentType: "application/json; charset=utf-8", body: renderStatus(this.status()) };
    }
    if (path === "/networks") {
      if (request.method !== "POST") return notAllowed("POST");
      this.#scan();
      return redirect("/", 303);
    }
    if (path === "/forget") {
      if (request.method !== "POST") return notAllowed("POST");
      return this.#forget(request);
    }
    if (ap !== undefined) return redirect(`http://${ap.address}/`, 302);
    return errorResponse(404, "no such page");
  }

  #page(
    values: Partial<Record<FormField, string>>,
    errors: Partial<Record<FormField, string>>,
    query: string,
    status = 200,
  ): HttpResponse {
    const view: PageView = {
      status: this.status(),
      wifi: this.#options.radio !== undefined,
      values,
      errors,
      codeOptional: !this.#options.actions.codeRequired(),
      forgotten: query === "forgotten",
    };
    return { status, contentType: "text/html; charset=utf-8", body: renderPage(view) };
  }

  #formOf(request: HttpRequest): ReadonlyMap<string, string> | HttpResponse {
    const type = request.contentType.split(";")[0]!.trim();
    // RFC 9110 §15.5.16: the page only ever sends urlencoded forms.
    if (type !== "application/x-www-form-urlencoded") return errorResponse(415, "send the page's form");
    const form = parseForm(request.body, MAX_FORM_FIELDS);
    if (!form.ok) return errorResponse(400, form.reason);
    return form.fields;
  }

  #submit(request: HttpRequest): HttpResponse {
    const fields = this.#formOf(request);
    if (!(fields instanceof Map)) return fields as HttpResponse;
    if (this.#phase === "working") return redirect("/", 303);
    const { actions, radio } = this.#options;
    const check = checkSetupForm(fields, {
      wifi: radio !== undefined,
      codeRequired: actions.codeRequired(),
      currentSsid: radio?.ssid,
    });
    if (!check.ok) {
      const shown: Partial<Record<FormField, string>> = {};
      for (const [name, value] of fields) if (name !== "password") shown[name as FormField] = value;
      return this.#page(shown, check.errors, "", 400);
    }
    this.#carryOut(check.values);
    return redirect("/", 303);
  }

  /** Wi-Fi first (the platform is reached through it), then the server, then the code. */
  #carryOut(values: EnteredSettings): void {
    const { actions, radio, log } = this.#options;
    this.#phase = "working";
    this.#error = undefined;
    this.#cancelClose();
    this.#steps = { wifi: "pending", activate: "pending", subscribe: "pending" };
    const { ssid, password, ...rest } = values;
    // Credentials are kept once the network took them; the rest once valid.
    actions.store(rest);
    /** `joined`: the station moved to a network just now; the subscription's confirmation on it ends setup. */
    const afterWifi = (joined: boolean): void => {
      if (this.#closed) return;
      if (rest.server !== undefined && rest.server !== actions.server()) actions.retarget(rest.server);
      if (rest.activationCode !== undefined) {
        this.#set("activate", "active");
        this.#message = "Activating…";
        actions.activate(rest.activationCode, rest.productId);
      } else {
        this.#set("activate", "done");
        this.#set("subscribe", "active");
        this.#message = "Saved; connecting…";
        if (actions.token() === undefined) this.refused("no activation code");
        else if (rest.server === undefined && !joined) this.subscribed();
      }
    };
    if (radio === undefined || ssid === undefined) {
      this.#set("wifi", "done");
      afterWifi(false);
      return;
    }
    this.#set("wifi", "active");
    this.#message = `Joining ${ssid}…`;
    radio.join(ssid, password === "" ? undefined : password).then(
      (outcome: JoinOutcome) => {
        if (this.#closed) return;
        if (!outcome.ok) {
          this.#set("wifi", "failed");
          this.#phase = "failed";
          this.#error = `Could not join ${ssid}: ${outcome.reason}`;
          this.#message = "Check the network name and password.";
          return;
        }
        actions.store({ ssid, password: password ?? "" });
        this.#set("wifi", "done");
        log("info", `setup: joined ${JSON.stringify(ssid)}, address ${outcome.address}`);
        afterWifi(true);
      },
      (error: unknown) => {
        this.#set("wifi", "failed");
        this.#phase = "failed";
        this.#error = `Could not join ${ssid}: ${String(error)}`;
      },
    );
  }

  #forget(request: HttpRequest): HttpResponse {
    const fields = this.#formOf(request);
    if (!(fields instanceof Map)) return fields as HttpResponse;
    if (fields.get("confirm") !== "yes") return errorResponse(400, "confirm=yes is needed");
    this.#options.actions.forget();
    this.#reason = "forgotten";
    this.#phase = "idle";
    this.#steps = { wifi: "pending", activate: "pending", subscribe: "pending" };
    this.#error = undefined;
    this.#message = "Fill in the form to connect this device.";
    this.#cancelClose();
    return redirect("/?forgotten", 303);
  }
}

function redirect(location: string, status: 302 | 303): HttpResponse {
  return { status, headers: [["Location", location]], body: `See ${location}\n` };
}

function notAllowed(allow: string): HttpResponse {
  // RFC 9110 §15.5.6: 405 carries Allow.
  return errorResponse(405, `use ${allow}`, [["Allow", allow]]);
}
