// A small theThings.IO platform on the simulated network, for specs of the whole device
// (device/app.ts) on a fake clock: one thing, writes stored with their datetimes (arrival time
// when they carry none) and pushed to the thing's observers, reads with `limit` newest first
// (4.04 for a key never written), the subscription with its keep-alives, and writes "from
// another client" (write()). Portable (Node and XS).
import { Code, ContentFormat } from "../../coap/codes.js";
import { OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { parsePlatformDate } from "../../thethings/dates.js";
import type { FakeClock } from "../sim/fake-clock.js";
import { SimCoapServer, type SimReply, type SimRequest } from "../sim/sim-coap-server.js";
import type { SimNetwork } from "../sim/sim-network.js";

export interface StoredItem {
  readonly key: string;
  readonly value: unknown;
  /** UTC ms. */
  readonly datetime: number;
}

export interface SimPlatformOptions {
  readonly network: SimNetwork;
  readonly address: PeerAddress;
  readonly token: string;
  /** UTC ms at clock time 0: the platform's wall clock follows the fake clock. */
  readonly utcAtZero: number;
}

const JSON_FORMAT = [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }];

export class SimPlatform {
  readonly server: SimCoapServer;
  /** Every stored value, oldest first. */
  readonly stored: StoredItem[] = [];
  /** Subscription registrations, with the keepAlive each asked for. */
  readonly registrations: number[] = [];
  /** Reads, by key, in order. */
  readonly reads: string[] = [];
  /** While false the platform answers nothing (an outage). */
  up = true;
  readonly #clock: FakeClock;
  readonly #thing: string;
  readonly #utcAtZero: number;
  #keepAliveTimer: unknown;

  constructor(options: SimPlatformOptions) {
    this.#clock = options.network.clock;
    this.#thing = `/v2/things/${options.token}`;
    this.#utcAtZero = options.utcAtZero;
    this.server = new SimCoapServer({ network: options.network, address: options.address });
    this.server.handle((request, reply) => {
      if (this.up) this.#answer(request, reply);
    });
  }

  /** The platform's UTC now. */
  utcNow(): number {
    return this.#utcAtZero + this.#clock.now();
  }

  /** The values stored on `key`, oldest first. */
  values(key: string): StoredItem[] {
    return this.stored.filter((item) => item.key === key);
  }

  /** A write from another client (a dashboard, a rule): stored at arrival and pushed to the observers. */
  write(key: string, value: unknown): void {
    this.#store([{ key, value, datetime: Math.floor(this.utcNow()) }]);
  }

  /** Sends `{}` to every observer every `everyMs` (the platform's keep-alive), until close(). */
  keepAlives(everyMs: number): void {
    const tick = (): void => {
      if (this.up) this.#push("{}");
      this.#keepAliveTimer = this.#clock.setTimer(tick, everyMs);
    };
    this.#keepAliveTimer = this.#clock.setTimer(tick, everyMs);
  }

  close(): void {
    if (this.#keepAliveTimer !== undefined) this.#clock.clearTimer(this.#keepAliveTimer as never);
  }

  #answer(request: SimRequest, reply: SimReply): void {
    if (request.path === this.#thing && request.method === Code.POST) {
      const body = JSON.parse(decodeUtf8(request.payload)) as {
        values: { key: string; value: unknown; datetime?: string }[];
      };
      const arrival = Math.floor(this.utcNow());
      this.#store(
        body.values.map((item) => ({
          key: item.key,
          value: item.value,
          datetime: item.datetime === undefined ? arrival : parsePlatformDate(item.datetime)!,
        })),
      );
      reply.respond({ code: Code.Created, payload: '{"status":"created"}', options: JSON_FORMAT });
      return;
    }
    if (request.path === this.#thing && request.method === Code.GET && request.observe === 0) {
      const asked = request.query.find((q) => q.startsWith("keepAlive="));
      this.registrations.push(asked === undefined ? 0 : Number(asked.slice("keepAlive=".length)));
      this.server.addObserver(request);
      reply.respond({
        code: Code.Content,
        payload: '{"status":"success","message":"subscribed"}',
        options: [{ number: OptionNumber.Observe, value: 1 }, ...JSON_FORMAT],
      });
      return;
    }
    const prefix = `${this.#thing}/resources/`;
    if (request.path.startsWith(prefix) && request.method === Code.GET) {
      const key = request.path.slice(prefix.length);
      this.reads.push(key);
      const limitText = request.query.find((q) => q.startsWith("limit="));
      const limit = limitText === undefined ? 100 : Number(limitText.slice("limit=".length));
      const newestFirst = this.values(key).reverse().slice(0, limit);
      if (newestFirst.length === 0) {
        reply.respond({
          code: Code.NotFound,
          payload: '{"status":"error","message":"not found"}',
          options: JSON_FORMAT,
        });
        return;
      }
      const items = newestFirst.map((item) => ({
        key,
        value: item.value,
        datetime: new Date(item.datetime).toISOString(),
      }));
      reply.respond({ code: Code.Content, payload: JSON.stringify(items), options: JSON_FORMAT });
      return;
    }
    reply.respond({ code: Code.NotFound, payload: '{"status":"error","message":"not here"}', options: JSON_FORMAT });
  }

  #store(items: readonly StoredItem[]): void {
    for (const item of items) this.stored.push(item);
    this.#push(
      JSON.stringify(
        items.map((item) => ({ key: item.key, value: item.value, datetime: new Date(item.datetime).toISOString() })),
      ),
    );
  }

  #push(body: string): void {
    this.server.notify(this.#thing, { code: Code.Content, payload: body, options: JSON_FORMAT });
  }
}
