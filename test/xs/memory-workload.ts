// The device's protocol stack under a long, varied workload, for heap measurement on XS
// (tools/xs-memory.ts) and checked on Node by a spec: the real CoapEndpoint, ThethingsClient,
// subscription, CommandDispatcher and simulated actuators, on a simulated network and a fake
// clock, against a lean server (test/sim/bounded-coap-server.ts) whose own state is bounded, so
// that the heap between two phases changes only if the stack under test keeps something.
// Phases: exchanges (writes, reads, CON and NON GETs, separate responses, Block2 bodies),
// commands pushed on the subscription, hostile payloads pushed the same way, a hostile
// peer's datagrams, and settings written on the platform (good, refused and hostile values,
// never-seen names, resets) through the real settings service with its flash and its report.
// Each phase ends with the same quiet tail, so every bounded table (the duplicate cache above
// all) is in the same state whenever the heap is measured. Portable.

import { CoapRequestError, type RequestOptions } from "../../coap/client-api.js";
import { Code, ContentFormat } from "../../coap/codes.js";
import { CoapEndpoint } from "../../coap/endpoint.js";
import { OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { CommandDispatcher } from "../../device/commands.js";
import { parseDeviceConfig } from "../../device/config.js";
import { type SettingOutcome, SettingsService } from "../../device/settings-service.js";
import { SimulatedActuator } from "../../device/simulated-actuator.js";
import { ValueRouter } from "../../device/value-router.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { ReportQueue } from "../../sensors/report-queue.js";
import { ThethingsClient } from "../../thethings/client.js";
import { ThethingsError } from "../../thethings/errors.js";
import type { ThingSubscription } from "../../thethings/subscription.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { SeededRandom as FuzzRandom } from "../fuzz/datagram-fuzz.js";
import { HOSTILE_PAYLOADS } from "../fuzz/hostile-payloads.js";
import { HostilePeer } from "../fuzz/hostile-peer.js";
import { TapPort } from "../fuzz/tap-port.js";
import { type BoundedAnswer, BoundedCoapServer, type BoundedRequest } from "../sim/bounded-coap-server.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";
import { SimNetwork } from "../sim/sim-network.js";

const CLIENT: PeerAddress = Object.freeze({ address: "192.0.2.10", port: 40001 });
const SERVER: PeerAddress = Object.freeze({ address: "192.0.2.1", port: 5683 });
const TOKEN = "MemoryWorkloadThingToken0123456789_-abcdef";
const THING = `/v2/things/${TOKEN}`;
const SUBSCRIBED = '{"status":"success","message":"subscribed"}';
/** A body of three blocks (RFC 7959), as bytes: encoding a long text on every request would dominate the run on XS. */
const BIG_TEXT = "b".repeat(2_500);
const BIG_BODY = new Uint8Array(BIG_TEXT.length).fill(0x62);
/** The same tail after every phase: more server messages than the endpoint's duplicate cache holds (64). */
const TAIL_NOTIFICATIONS = 80;
/** And more identical requests than the server's duplicate window holds (64), so its table ends the same too. */
const TAIL_REQUESTS = 70;
const KEEP_ALIVE_MS = 20_000;
/** A pushed command is applied within one round trip (10 ms here); after this it counts as lost. */
const COMMAND_WAIT_MS = 200;
const COMMAND_ATTEMPTS = 3;
/** Past EXCHANGE_LIFETIME (247 s, RFC 7252 §4.8.2): every duplicate-cache entry of the phase has expired. */
const QUIET_MS = 250_000;
const MEMBER_NAMES_PER_NOTIFICATION = 50;
/** A hostile never-seen settings name is this long: a name kept as a property key would show at once. */
const UNKNOWN_SETTING_NAME_LENGTH = 48;
/**
 * One cycle of settings writes: applied ones, refused ones (out of range, wrong type, long text,
 * deep JSON), a never-seen name (its serial is appended) and a reset, which ends every cycle, so
 * the service is in its build-time state whenever the heap is measured.
 */
const SETTINGS_CYCLE: readonly string[] = Object.freeze([
  '{"key":"settings.interval","value":"1s"}',
  '{"key":"settings.batch","value":5}',
  '{"key":"settings.maxDelay","value":2500}',
  '{"key":"settings.keepAlive","value":"45s"}',
  '{"key":"settings.logLevel","value":"debug"}',
  '{"key":"settings.healthInterval","value":"0"}',
  '{"key":"settings.batch","value":"0"}',
  '{"key":"settings.interval","value":true}',
  `{"key":"settings.maxDelay","value":"${"9".repeat(2_000)}"}`,
  '{"key":"settings.keepAlive","value":{"a":{"b":{"c":[[[1]]]}}}}',
  "UNKNOWN",
  '{"key":"settings.server","value":"coap://evil.example"}',
  '{"key":"settings.reset","value":1}',
]);

export interface PhaseCounts {
  readonly exchanges?: number;
  readonly notifications?: number;
  readonly hostileNotifications?: number;
  readonly fuzzDatagrams?: number;
  /** Notifications each carrying MEMBER_NAMES_PER_NOTIFICATION member names never seen before (see #uniqueNames). */
  readonly uniqueNameNotifications?: number;
  /** Settings writes pushed on the subscription, whole SETTINGS_CYCLEs (rounded up). */
  readonly settingsWrites?: number;
}

export interface PhaseReport {
  readonly exchanges: {
    readonly attempted: number;
    readonly ok: number;
    readonly failed: number;
    readonly wrong: number;
  };
  /**
   * `repushed`: commands that did not arrive the first time (a hostile phase before may have
   * planted duplicate-cache entries).
   */
  readonly commands: { readonly sent: number; readonly applied: number; readonly repushed: number };
  readonly hostile: {
    readonly sent: number;
    readonly applied: number;
    readonly ignored: number;
    readonly dropped: number;
  };
  readonly fuzz: { readonly sent: number; readonly escaped: number };
  readonly uniqueNames: { readonly sent: number; readonly applied: number };
  /** What the settings service did with each write; `flashWrites`: how often the flash was written. */
  readonly settings: {
    readonly sent: number;
    readonly outcomes: Readonly<Partial<Record<SettingOutcome, number>>>;
    readonly reports: number;
    readonly flashWrites: number;
  };
  /** Internal errors the stack logged (level "error" other than the platform's own error status). */
  readonly internalErrors: number;
  readonly subscriptionActive: boolean;
  readonly pendingTimers: number;
  readonly simulatedMs: number;
}

export class MemoryWorkload {
  readonly #clock = new FakeClock({ settleTurns: 16 });
  readonly #net: SimNetwork;
  readonly #server: BoundedCoapServer;
  readonly #tap: TapPort;
  readonly #endpoint: CoapEndpoint;
  readonly #client: ThethingsClient;
  readonly #led = new SimulatedActuator({ kind: "digital" });
  readonly #dim = new SimulatedActuator({ kind: "pwm" });
  readonly #dispatcher: CommandDispatcher;
  readonly #settings: SettingsService;
  readonly #router: ValueRouter;
  readonly #flash = new MemoryStore();
  /** device.settings as telemetry would queue it; settled at once, as when its batch is stored. */
  readonly #reports = new ReportQueue(900);
  readonly #outcomes: Partial<Record<SettingOutcome, number>> = {};
  #settingsReports = 0;
  #settingsSerial = 0;
  readonly #random: SeededRandom;
  readonly #peer: HostilePeer;
  #subscription: ThingSubscription | undefined;
  #current: string | Uint8Array = SUBSCRIBED;
  #subscribed = 0;
  #ignored = 0;
  #internalErrors = 0;
  #commandLevel = 0;
  #closed = false;
  #uniqueSerial = 0;

  constructor(seed: number = 1) {
    this.#random = new SeededRandom(seed);
    this.#net = new SimNetwork({
      clock: this.#clock,
      random: new SeededRandom(seed + 1),
      conditions: { delayMs: 5 },
      traceLimit: 4,
    });
    this.#server = new BoundedCoapServer({
      network: this.#net,
      address: SERVER,
      handler: (request) => this.#answer(request),
    });
    this.#tap = new TapPort(this.#net.bind(CLIENT));
    const log = (level: string, text: string): void => {
      if (level === "error" && text.indexOf("subscription error") < 0) this.#internalErrors++;
    };
    this.#endpoint = new CoapEndpoint({
      port: this.#tap,
      server: SERVER,
      clock: this.#clock,
      random: new SeededRandom(seed + 2),
      log,
      reregisterBackoff: { initialMs: 500, maxMs: 4_000 },
    });
    this.#client = new ThethingsClient({ coap: this.#endpoint, log, thingToken: TOKEN });
    this.#dispatcher = new CommandDispatcher({
      actuators: [
        { key: "led", output: this.#led },
        { key: "dim", output: this.#dim },
      ],
      telemetryKeys: ["temperature"],
      log,
      onIgnored: () => void this.#ignored++,
    });
    this.#settings = new SettingsService({
      config: parseDeviceConfig({ sensors: "", actuators: "" }),
      store: this.#flash,
      clock: this.#clock,
      log,
      targets: {
        telemetry: () => undefined,
        keepAlive: () => undefined,
        logLevel: () => undefined,
        healthInterval: () => undefined,
        reportSettings: (value, urgent) => {
          const problem = this.#reports.put("device.settings", value, undefined, this.#clock.now(), urgent);
          for (const report of this.#reports.entries.slice()) this.#reports.settle(report);
          if (problem === undefined) this.#settingsReports++;
          return problem;
        },
      },
    });
    const settings = this.#settings;
    this.#router = new ValueRouter({
      commands: this.#dispatcher,
      settings: {
        dispatch: (value) => {
          const outcome = settings.dispatch(value);
          this.#outcomes[outcome] = (this.#outcomes[outcome] ?? 0) + 1;
          return outcome;
        },
      },
    });
    this.#peer = new HostilePeer({
      random: new FuzzRandom(seed + 3),
      profile: "on-path",
      server: SERVER,
      live: this.#tap,
    });
  }

  /** Subscribes and waits for the platform's confirmation; from then on the platform sends {} every keepAlive/2. */
  async start(): Promise<void> {
    const keepAlive = (): void => {
      if (this.#closed) return;
      this.#push("{}", false);
      this.#clock.setTimer(keepAlive, KEEP_ALIVE_MS / 2);
    };
    this.#clock.setTimer(keepAlive, KEEP_ALIVE_MS / 2);
    this.#subscription = this.#client.subscribe(
      { onValues: (values) => this.#router.dispatch(values), onSubscribed: () => void this.#subscribed++ },
      { keepAliveMs: KEEP_ALIVE_MS },
    );
    await this.#clock.runUntil(() => this.#subscribed > 0, 10_000);
  }

  /** Runs one phase, then the quiet tail. */
  async run(counts: PhaseCounts): Promise<PhaseReport> {
    const startedAt = this.#clock.now();
    const errorsBefore = this.#internalErrors;
    const exchanges = await this.#exchanges(counts.exchanges ?? 0);
    const commands = await this.#commands(counts.notifications ?? 0);
    const hostile = await this.#hostile(counts.hostileNotifications ?? 0);
    const fuzz = await this.#fuzz(counts.fuzzDatagrams ?? 0);
    const uniqueNames = await this.#uniqueNames(counts.uniqueNameNotifications ?? 0);
    const settings = await this.#settingsWrites(counts.settingsWrites ?? 0);
    await this.#tail();
    return {
      exchanges,
      commands,
      hostile,
      fuzz,
      uniqueNames,
      settings,
      internalErrors: this.#internalErrors - errorsBefore,
      subscriptionActive: this.#subscription?.active === true,
      pendingTimers: this.#clock.pendingTimers,
      simulatedMs: this.#clock.now() - startedAt,
    };
  }

  #answer(request: BoundedRequest): BoundedAnswer | undefined {
    const json = [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }];
    const text = decodeUtf8(request.payload);
    switch (request.path) {
      case THING:
        if (request.code === Code.POST) return { code: Code.Created, payload: '{"status":"created"}', options: json };
        if (request.observe === 0) return { code: Code.Content, payload: SUBSCRIBED, options: json };
        return { code: Code.Content, payload: this.#current, options: json };
      case `${THING}/resources/led`:
        return { code: Code.Content, payload: '[{"key":"led","value":1,"datetime":"20240101120000"}]', options: json };
      case "/echo":
        return { code: Code.Content, payload: `echo:${text}` };
      case "/slow":
        return { code: Code.Changed, payload: `slow:${text}`, separateAfterMs: 20 };
      case "/big":
        return { code: Code.Content, payload: BIG_BODY };
      default:
        return { code: Code.NotFound };
    }
  }

  /** One exchange of a random kind; whether it got the answer the server gives. */
  async #exchange(i: number): Promise<"ok" | "wrong" | "failed"> {
    const roll = this.#random.int(20);
    const id = `x${i}`;
    let done = false;
    let outcome: "ok" | "wrong" | "failed" = "failed";
    const check = (ok: boolean): void => {
      outcome = ok ? "ok" : "wrong";
    };
    let work: Promise<void>;
    if (roll < 7) {
      work = this.#client
        .writeOnce([{ key: "temperature", value: 20 + (i % 10), datetime: 1_700_000_000_000 + i * 1000 }])
        .then((result) => check(result.ok));
    } else if (roll < 10) {
      work = this.#client
        .read("led", { limit: 1 })
        .then((values) => check(values.length === 1 && values[0]!.value === 1));
    } else if (roll < 17) {
      const request: RequestOptions =
        roll < 12
          ? { method: "POST", path: "/slow", payload: id }
          : roll < 13
            ? { method: "GET", path: "/big" }
            : { method: "GET", path: "/echo", payload: id, confirmable: roll < 15 };
      const expected = roll < 12 ? `slow:${id}` : roll < 13 ? BIG_TEXT : `echo:${id}`;
      work = this.#endpoint.request(request).then((response) => check(decodeUtf8(response.payload) === expected));
    } else {
      work = this.#endpoint
        .request({ method: "GET", path: "/missing" })
        .then((response) => check(response.code === Code.NotFound));
    }
    void work.then(
      () => void (done = true),
      (error: unknown) => {
        outcome = error instanceof CoapRequestError || error instanceof ThethingsError ? "failed" : "wrong";
        done = true;
      },
    );
    await this.#clock.runUntil(() => done, 600_000);
    return outcome;
  }

  async #exchanges(count: number): Promise<PhaseReport["exchanges"]> {
    const tally = { attempted: 0, ok: 0, failed: 0, wrong: 0 };
    for (let i = 0; i < count; i++) {
      tally.attempted++;
      tally[await this.#exchange(i)]++;
    }
    return tally;
  }

  /** Pushes `body` on the subscription as the platform does; CON and NON alternate. */
  #push(body: string | Uint8Array, confirmable: boolean): void {
    this.#current = body;
    this.#server.notify(
      THING,
      {
        code: Code.Content,
        payload: body,
        options: [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }],
      },
      confirmable,
    );
  }

  /**
   * Commands one at a time, each waited for; one that does not arrive is pushed again, as the
   * platform would push the next write.
   */
  async #commands(count: number): Promise<PhaseReport["commands"]> {
    const writes = (): number => this.#led.writes + this.#dim.writes;
    const before = writes();
    let repushed = 0;
    for (let i = 0; i < count; i++) {
      this.#commandLevel = 1 - this.#commandLevel;
      const body =
        i % 2 === 0 ? `[{"key":"led","value":${this.#commandLevel}}]` : `[{"key":"dim","value":"${i % 100}%"}]`;
      const target = before + i + 1;
      for (let attempt = 1; writes() < target; attempt++) {
        if (attempt > COMMAND_ATTEMPTS) throw new Error(`command ${i} not applied after ${COMMAND_ATTEMPTS} pushes`);
        if (attempt > 1) repushed++;
        this.#push(body, i % 2 === 1);
        await this.#clock.advance(COMMAND_WAIT_MS);
      }
    }
    return { sent: count, applied: writes() - before, repushed };
  }

  async #hostile(count: number): Promise<PhaseReport["hostile"]> {
    const writesBefore = this.#led.writes + this.#dim.writes;
    const ignoredBefore = this.#ignored;
    const droppedBefore = this.#subscription?.stats.dropped ?? 0;
    for (let i = 0; i < count; i++) {
      this.#push(HOSTILE_PAYLOADS[i % HOSTILE_PAYLOADS.length]!.payload, i % 2 === 0);
      await this.#clock.advance(500);
    }
    return {
      sent: count,
      applied: this.#led.writes + this.#dim.writes - writesBefore,
      ignored: this.#ignored - ignoredBefore,
      dropped: (this.#subscription?.stats.dropped ?? 0) - droppedBefore,
    };
  }

  async #fuzz(count: number): Promise<PhaseReport["fuzz"]> {
    let escaped = 0;
    for (let sent = 0; sent < count; ) {
      for (let i = 0; i < 4 && sent < count; i++, sent++) {
        const datagram = this.#peer.next();
        try {
          this.#tap.inject(datagram.bytes, datagram.from);
        } catch {
          escaped++;
        }
      }
      await this.#clock.advance(5 + this.#random.int(10));
    }
    return { sent: count, escaped };
  }

  /**
   * JSON objects whose member names are all new: {"u0_0":1,"u0_1":1,…}. The subscription
   * drops each (an object of unknown shape), but JSON.parse has already made every member name
   * a property key, and XS keeps property keys for the life of the machine.
   */
  async #uniqueNames(count: number): Promise<PhaseReport["uniqueNames"]> {
    const writesBefore = this.#led.writes + this.#dim.writes;
    for (let i = 0; i < count; i++) {
      const members: string[] = [];
      for (let k = 0; k < MEMBER_NAMES_PER_NOTIFICATION; k++) members.push(`"u${this.#uniqueSerial}_${k}":1`);
      this.#uniqueSerial++;
      this.#push(`{${members.join(",")}}`, false);
      await this.#clock.advance(100);
    }
    return { sent: count, applied: this.#led.writes + this.#dim.writes - writesBefore };
  }

  /**
   * Settings written on the platform, pushed one at a time as the platform pushes each write:
   * whole SETTINGS_CYCLEs, each ending with a reset. The unknown names are all new.
   */
  async #settingsWrites(count: number): Promise<PhaseReport["settings"]> {
    const before = { ...this.#outcomes };
    const reportsBefore = this.#settingsReports;
    const flashBefore = this.#flash.writes;
    let sent = 0;
    while (sent < count) {
      for (const item of SETTINGS_CYCLE) {
        const serial = String(this.#settingsSerial++);
        const body =
          item === "UNKNOWN"
            ? `{"key":"settings.${serial.padStart(UNKNOWN_SETTING_NAME_LENGTH, "u")}","value":1}`
            : item;
        this.#push(`[${body}]`, sent % 2 === 0);
        sent++;
        await this.#clock.advance(50);
      }
    }
    const outcomes: Partial<Record<SettingOutcome, number>> = {};
    for (const [outcome, total] of Object.entries(this.#outcomes) as [SettingOutcome, number][]) {
      const delta = total - (before[outcome] ?? 0);
      if (delta > 0) outcomes[outcome] = delta;
    }
    return {
      sent,
      outcomes,
      reports: this.#settingsReports - reportsBefore,
      flashWrites: this.#flash.writes - flashBefore,
    };
  }

  /**
   * A quiet spell (keep-alives only) past EXCHANGE_LIFETIME, the subscription registered
   * afresh, then the same run of commands: every table in the same state at the end of every
   * phase.
   */
  async #tail(): Promise<void> {
    await this.#clock.advance(QUIET_MS);
    const subscribedBefore = this.#subscribed;
    this.#subscription?.reregister();
    await this.#clock.runUntil(() => this.#subscribed > subscribedBefore, 120_000);
    await this.#commands(TAIL_NOTIFICATIONS);
    for (let i = 0; i < TAIL_REQUESTS; i++) {
      let done = false;
      const reply = this.#endpoint.request({ method: "GET", path: "/echo", payload: "tail" });
      void reply.then(
        () => void (done = true),
        () => void (done = true),
      );
      await this.#clock.runUntil(() => done, 60_000);
      await reply;
    }
    await this.#clock.advance(1_000);
  }

  close(): void {
    this.#closed = true;
    void this.#subscription?.close().catch(() => undefined);
    this.#endpoint.close();
    this.#server.close();
  }
}
