// A device with the setup portal on simulated networks: the CoAP side talks to a small
// theThings.IO stand-in on a SimNetwork (activation with a list of good codes, writes, the
// subscription, refused tokens), the page is reached over a FakeTcpNetwork, and on the "board"
// variant a FakeRadio stands in for the access point, the scan and the station. Portable.
import { Code, ContentFormat } from "../../coap/codes.js";
import { OptionNumber } from "../../coap/options.js";
import { Device, type DeviceEvent } from "../../device/app.js";
import { parseDeviceConfig } from "../../device/config.js";
import { openSensors } from "../../device/open-sensors.js";
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import type { AccessPoint, JoinOutcome, SetupRadio, WifiNetwork } from "../../device/setup-radio.js";
import { simulatedBoardIo } from "../../device/simulated-board-io.js";
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";
import { CLIENT_ADDRESS } from "../sim/endpoint-fixture.js";
import { FakeClock } from "../sim/fake-clock.js";
import { type FakeTcpClient, FakeTcpNetwork } from "../sim/fake-tcp.js";
import { SeededRandom } from "../sim/seeded-random.js";
import { SimCoapServer } from "../sim/sim-coap-server.js";
import { SimNetwork } from "../sim/sim-network.js";
import { MemoryStore } from "./thethings-fakes.js";

export const PLATFORM = Object.freeze({ address: "192.0.2.1", port: 5683 });
export const GOOD_CODE = "GOOD-code-1";
export const TOKENS = Object.freeze([
  "NwFbEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE",
  "ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210-_zyxwv",
]);

/** The platform: activation, writes and the subscription; tokens can be revoked (a deleted thing). */
export class MiniPlatform {
  readonly server: SimCoapServer;
  readonly goodCodes = new Set([GOOD_CODE]);
  readonly revoked = new Set<string>();
  /** Activations asked, with their code. */
  readonly activations: string[] = [];
  /** Values stored, per token. */
  readonly stored = new Map<string, number>();
  #issued = 0;

  constructor(network: SimNetwork) {
    this.server = new SimCoapServer({ network, address: PLATFORM });
    const json = (code: number, body: unknown) => ({
      code,
      payload: JSON.stringify(body),
      options: [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }],
    });
    this.server.handle((request, reply) => {
      const parts = request.path.split("/").filter((part) => part !== "");
      if (request.method === Code.POST && parts.length === 2) {
        const body = JSON.parse(decodeUtf8(request.payload)) as { activationCode: string };
        this.activations.push(body.activationCode);
        if (!this.goodCodes.has(body.activationCode)) {
          reply.respond(json(Code.BadRequest, { status: "error", message: "Error creating thing" }));
          return;
        }
        const thingToken = TOKENS[this.#issued++ % TOKENS.length]!;
        this.revoked.delete(thingToken);
        reply.respond(json(Code.Created, { status: "created", thingToken }));
        return;
      }
      const token = parts[2] ?? "";
      if (this.revoked.has(token)) {
        reply.respond(json(Code.NotFound, { status: "error", message: "Thing not found" }));
        return;
      }
      if (request.method === Code.POST) {
        const body = JSON.parse(decodeUtf8(request.payload)) as { values: unknown[] };
        this.stored.set(token, (this.stored.get(token) ?? 0) + body.values.length);
        reply.respond(json(Code.Created, { status: "created" }));
        return;
      }
      if (request.observe === 0) {
        reply.respond({
          code: Code.Content,
          payload: '{"status":"success","message":"subscribed"}',
          options: [
            { number: OptionNumber.Observe, value: 1 },
            { number: OptionNumber.ContentFormat, value: ContentFormat.Json },
          ],
        });
        return;
      }
      reply.respond(json(Code.NotFound, { status: "error", message: "not found" }));
    });
  }
}

/** The board's Wi-Fi as the portal sees it; the test decides each join's outcome. */
export class FakeRadio implements SetupRadio {
  ssid: string | undefined;
  online = false;
  accessPoint: { password: string | undefined } | undefined;
  readonly joins: { ssid: string; password: string | undefined }[] = [];
  /** The next join's outcome (a good join by default). */
  nextJoin: JoinOutcome = { ok: true, address: "192.168.1.50" };
  networks: WifiNetwork[] = [{ ssid: "Home <5G>", rssi: -48, secure: true }];
  forgotten = 0;

  constructor(ssid?: string) {
    this.ssid = ssid;
  }

  openAccessPoint(password: string | undefined): AccessPoint {
    this.accessPoint = { password };
    return { ssid: "thethings-A1B2", address: "192.168.4.1" };
  }

  closeAccessPoint(): void {
    this.accessPoint = undefined;
  }

  scan(): Promise<readonly WifiNetwork[]> {
    return Promise.resolve(this.networks);
  }

  join(ssid: string, password: string | undefined): Promise<JoinOutcome> {
    this.joins.push({ ssid, password });
    const outcome = this.nextJoin;
    if (outcome.ok) {
      this.ssid = ssid;
      this.online = true;
    }
    return Promise.resolve(outcome);
  }

  forget(): void {
    this.forgotten++;
    this.ssid = undefined;
  }
}

export interface RigOptions {
  readonly settings?: Record<string, string>;
  readonly store?: MemoryStore;
  readonly radio?: FakeRadio;
  readonly setupRequested?: boolean;
  /** Leave the setup ports out (a device without a portal). */
  readonly noSetup?: boolean;
  /** Datagrams the simulated network keeps in its trace (memory specs keep none). */
  readonly traceLimit?: number;
}

export function setupRig(options: RigOptions = {}) {
  const clock = new FakeClock();
  const net = new SimNetwork({
    clock,
    random: new SeededRandom(4),
    conditions: { delayMs: 5 },
    traceLimit: options.traceLimit,
  });
  const platform = new MiniPlatform(net);
  const tcp = new FakeTcpNetwork();
  const store = options.store ?? new MemoryStore();
  const events: DeviceEvent[] = [];
  const logs: string[] = [];
  const random = new SeededRandom(5);
  const log = (level: string, message: string): void => {
    logs.push(`${level}: ${message}`);
  };
  const config = parseDeviceConfig({
    server: `coap://${PLATFORM.address}:${PLATFORM.port}`,
    sensors: "sim",
    actuators: "",
    interval: "1s",
    batch: "5",
    ...options.settings,
  });
  const device = new Device({
    config,
    ports: {
      udp: net.bind(CLIENT_ADDRESS),
      clock,
      random,
      // A set wall clock: these specs are about setup, not the hold for unstamped values.
      wallClock: { utcNow: () => Date.UTC(2026, 11, 1) + clock.now() },
      store,
      log,
      sensors: openSensors(config.sensors, { board: simulatedBoardIo, random, log }),
      actuators: [],
      setup: options.noSetup === true ? undefined : { listen: tcp.listen, radio: options.radio },
    },
    onEvent: (event) => events.push(event),
    setupRequested: options.setupRequested,
  });
  return { clock, net, platform, tcp, store, events, logs, device, config };
}

export type Rig = ReturnType<typeof setupRig>;

/** Form-encodes fields as a browser does. */
/** A flash that holds the first thing token: a device activated before this boot. */
export function activatedStore(): MemoryStore {
  const store = new MemoryStore();
  store.write(TOKEN_STORE_KEY, TOKENS[0]!);
  return store;
}

export function formBody(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value).replace(/%20/g, "+")}`)
    .join("&");
}

export async function request(rig: Rig, text: string): Promise<FakeTcpClient> {
  const client = rig.tcp.connect();
  client.send(text);
  await rig.clock.settle();
  return client;
}

export function get(rig: Rig, path: string, host = "127.0.0.1"): Promise<FakeTcpClient> {
  return request(rig, `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
}

export function post(
  rig: Rig,
  path: string,
  fields: Record<string, string>,
  host = "127.0.0.1",
): Promise<FakeTcpClient> {
  const body = formBody(fields);
  return request(
    rig,
    `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${encodeUtf8(body).length}\r\n\r\n${body}`,
  );
}

export async function status(rig: Rig, host = "127.0.0.1") {
  const client = await get(rig, "/status", host);
  return JSON.parse(client.body) as {
    phase: string;
    reason: string;
    steps: { step: string; state: string }[];
    message: string;
    error: string | null;
    token: string | null;
    server: string;
    ssid: string | null;
    networks: { ssid: string }[];
  };
}
