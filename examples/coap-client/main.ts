// The CoAP client module (coap/manifest.json) in one small app: one confirmable GET of
// config.path on config.server with its response traced, then an Observe of the same resource
// (RFC 7641) whose notifications are traced until config.notifications have arrived, when the
// observation is cancelled and the endpoint closed. Every native object (socket, timers) is
// made inside main(), never at module load.

import { CoapRequestError, type CoapResponse } from "coap/client-api";
import { codeString } from "coap/codes";
import { CoapEndpoint } from "coap/endpoint";
import { HostResolver } from "coap/moddable/host-resolver";
import { ModdableDatagramPort } from "coap/moddable/udp";
import type { PeerAddress } from "coap/peer-address";
import type { LogSink } from "kernel/log";
import { ModdableClock } from "kernel/moddable/clock";
import { ModdableRandom } from "kernel/moddable/random";
import { createTraceLog } from "kernel/moddable/trace-log";
import { decodeUtf8 } from "kernel/utf8";
import config from "mc/config";

/** RFC 7252 §6.1: the port when the URI gives none. */
const COAP_PORT = 5683;

interface Server {
  readonly host: string;
  readonly port: number;
}

/** `coap://host[:port]`, IPv6 literals in brackets; undefined for anything else. */
function parseServer(uri: string): Server | undefined {
  const scheme = "coap://";
  if (!uri.toLowerCase().startsWith(scheme)) return undefined;
  const authority = uri.slice(scheme.length).split("/")[0]!;
  const close = authority.startsWith("[") ? authority.indexOf("]") : -1;
  const colon = authority.indexOf(":", close + 1);
  const host = close > 0 ? authority.slice(1, close) : colon < 0 ? authority : authority.slice(0, colon);
  const portText = colon < 0 ? "" : authority.slice(colon + 1);
  const port = portText === "" ? COAP_PORT : Number(portText);
  if (host === "" || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

/** An IPv4 or IPv6 literal needs no DNS. */
function isAddressLiteral(host: string): boolean {
  if (host.indexOf(":") >= 0) return true;
  for (const character of host) {
    if (character !== "." && (character < "0" || character > "9")) return false;
  }
  return true;
}

function describe(response: CoapResponse): string {
  return `${codeString(response.code)} "${decodeUtf8(response.payload)}"`;
}

function failure(error: unknown): string {
  return error instanceof CoapRequestError ? `${error.kind}: ${error.message}` : String(error);
}

function count(value: unknown, fallback: number): number {
  const number = typeof value === "string" && value !== "" ? Number(value) : fallback;
  return Number.isInteger(number) && number >= 0 ? number : fallback;
}

function run(server: PeerAddress, path: string, notifications: number, clock: ModdableClock, log: LogSink): void {
  const endpoint = new CoapEndpoint({
    port: new ModdableDatagramPort({ log }),
    server,
    clock,
    random: new ModdableRandom(),
    log,
  });

  endpoint
    .request({ method: "GET", path, confirmable: true })
    .then((response) => log("info", `GET ${path}: ${describe(response)}`))
    .catch((error: unknown) => log("error", `GET ${path} failed: ${failure(error)}`));

  let received = 0;
  const observation = endpoint.observe(
    { method: "GET", path },
    {
      onNotification: (response) => {
        received++;
        log("info", `notification ${received}: ${describe(response)}`);
        if (notifications === 0 || received < notifications) return;
        observation
          .cancel()
          .then(() => {
            const stats = endpoint.stats;
            log(
              "info",
              `done: ${stats.notifications} notifications, ${stats.datagramsSent} datagrams sent, ${stats.retransmissions} retransmitted`,
            );
            endpoint.close();
          })
          .catch((error: unknown) => log("error", `cancel failed: ${failure(error)}`));
      },
      onLost: (reason) => log("warn", `observation lost: ${reason}`),
      onReestablished: () => log("info", "observation re-established"),
    },
  );
}

export default function main(): void {
  const clock = new ModdableClock();
  const log = createTraceLog({ minimum: "info", now: () => clock.now() });
  const uri = typeof config.server === "string" ? config.server : "";
  const server = parseServer(uri);
  const path = typeof config.path === "string" && config.path.startsWith("/") ? config.path : undefined;
  if (server === undefined || path === undefined) {
    log(
      "error",
      `config: server must be coap://host[:port] (is "${uri}") and path must start with / (is "${String(config.path)}")`,
    );
    return;
  }
  const notifications = count(config.notifications, 5);
  log("info", `coap-client: GET and Observe coap://${server.host}:${server.port}${path}`);
  if (isAddressLiteral(server.host)) {
    run({ address: server.host, port: server.port }, path, notifications, clock, log);
    return;
  }
  const resolver = new HostResolver({ clock });
  resolver
    .resolve(server.host)
    .then((address) => {
      resolver.close();
      if (address === undefined) log("error", `${server.host}: no address`);
      else run({ address, port: server.port }, path, notifications, clock, log);
    })
    .catch((error: unknown) => log("error", `${server.host}: ${failure(error)}`));
}
