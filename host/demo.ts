// `npm start -- [--seconds 30] [--http-port 8088] [--http-host ADDR] [--dashboard-token TOKEN]`:
// the whole loop on one PC. Starts the local platform on a free loopback port with a fresh
// activation code and its web dashboard (the address is printed first), runs the device against
// it with a `led` (digital) and a `fan` (PWM) output (first boot: activation), lets batches flow,
// and writes `led` commands to the thing as another client would (through node-coap, not our
// stack) while no dashboard page is open, so they never fight a person's clicks. Stops by itself
// after --seconds (default 30; 0 runs until Ctrl-C).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { request } from "coap";
import type { DeviceEvent } from "../device/app.js";
import { TOKEN_STORE_KEY } from "../device/provisioning.js";
import { DEFAULT_HTTP_PORT } from "../emulator/dashboard/http.js";
import { describeEvent, type PlatformEvent } from "../emulator/events.js";
import { startPlatform } from "../emulator/server.js";
import { runDevice } from "./run-device.js";

const { values: flags } = parseArgs({
  options: {
    seconds: { type: "string", default: "30" },
    "http-port": { type: "string", default: String(DEFAULT_HTTP_PORT) },
    "http-host": { type: "string", default: "127.0.0.1" },
    "dashboard-token": { type: "string" },
  },
});
const seconds = Number(flags.seconds);
if (!Number.isFinite(seconds) || seconds < 0) throw new Error(`--seconds: ${flags.seconds} is not a number of seconds`);
const httpPort = Number(flags["http-port"]);
if (!Number.isInteger(httpPort) || httpPort < 0 || httpPort > 65535) {
  throw new Error(`--http-port: ${flags["http-port"]} is not a port (0 picks a free one)`);
}

const started = Date.now();
const stamp = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`;
const say = (who: string, text: string): void => {
  process.stdout.write(`${stamp()}  ${who.padEnd(8)} ${text}\n`);
};

/** Writes a value to the thing over CoAP with node-coap, as the platform's dashboard or another device would. */
function writeAsAnotherClient(port: number, token: string, key: string, value: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ hostname: "127.0.0.1", port, pathname: `/v2/things/${token}`, method: "POST" });
    req.setOption("Content-Format", "application/json");
    req.on("response", (res: { code: string }) => resolve(res.code));
    req.on("error", reject);
    req.end(JSON.stringify({ values: [{ key, value }] }));
  });
}

const platformLog = (event: PlatformEvent): void => {
  if (event.event === "dashboard") say("demo", `dashboard: ${event.url}  (open it in a browser)`);
  else say("platform", describeEvent(event));
};
const platform = await startPlatform({
  port: 0,
  dashboard: {
    host: flags["http-host"],
    port: httpPort,
    ...(flags["dashboard-token"] === undefined ? {} : { token: flags["dashboard-token"] }),
  },
  log: platformLog,
}).catch((error: unknown) => {
  process.stderr.write(`npm start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
const code = platform.activationCodes[0]!;
const stateDir = mkdtempSync(join(tmpdir(), "thethings-demo-"));
say("demo", `device state (its "flash") in ${stateDir}`);

let commands = 0;
let lastLevel = 0;
let ticker: NodeJS.Timeout | undefined;
let paused = false;
const onEvent = (event: DeviceEvent): void => {
  switch (event.event) {
    case "activated":
      say("device", `activated with code ${code}: thing token ${event.token} stored`);
      break;
    case "subscribed":
      say("device", "subscribed: values written to the thing now reach the device");
      break;
    case "sent":
      say("device", `batch of ${event.count} timestamped value(s) stored by the platform`);
      break;
    case "command": {
      if (event.key === "led") lastLevel = event.level;
      const shown =
        event.key === "led"
          ? `LED is ${event.level === 1 ? "ON" : "OFF"}`
          : `${event.key} at ${Math.round(event.level * 100)} %`;
      say("device", `actuator ${event.key} ← ${JSON.stringify(event.value)}: ${shown} (${event.source})`);
      break;
    }
    case "subscription-lost":
      say("device", `subscription lost (${event.reason}), re-registering`);
      break;
    case "error":
      say("device", `error: ${event.message}`);
      break;
  }
};

const running = await runDevice({
  settings: {
    server: `coap://127.0.0.1:${platform.port}`,
    activationCode: code,
    interval: "2s",
    batch: "6",
    maxDelay: "5s",
    keepAlive: "10s",
    actuators: "led:digital:2,fan:pwm:4",
  },
  stateDir,
  log: (level, message) => {
    if (level === "warn" || level === "error") say("device", `[${level}] ${message}`);
  },
  onEvent,
});

// Once the device is subscribed, toggle the LED from "another client" every 7 s, but not while a
// dashboard page is open: a person is driving it then.
ticker = setInterval(() => {
  const token = running.store.read(TOKEN_STORE_KEY);
  if (token === undefined) return;
  const watched = (platform.dashboard?.clientCount() ?? 0) > 0;
  if (watched !== paused) {
    paused = watched;
    say(
      "demo",
      watched ? "a dashboard is open: scripted led writes paused" : "no dashboard open: scripted led writes resume",
    );
  }
  if (watched) return;
  const value = lastLevel === 1 ? 0 : 1;
  commands++;
  say("demo", `another client writes led=${value} to the thing`);
  writeAsAnotherClient(platform.port, token, "led", value).catch((error: unknown) =>
    say("demo", `write failed: ${String(error)}`),
  );
}, 7_000);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  const stats = running.device.stats();
  say(
    "demo",
    `done: sampled ${stats.sampled}, sent ${stats.sent}, buffered ${stats.buffered}, dropped ${stats.dropped}, retransmissions ${stats.retransmissions}, commands written ${commands}`,
  );
  running.stop();
  await platform.stop();
  rmSync(stateDir, { recursive: true, force: true });
}

process.once("SIGINT", () => void stop());
process.once("SIGTERM", () => void stop());
if (seconds > 0) setTimeout(() => void stop(), seconds * 1000);
say(
  "demo",
  seconds > 0 ? `running for ${seconds} s (npm start -- --seconds 0 runs until Ctrl-C)` : "running until Ctrl-C",
);
