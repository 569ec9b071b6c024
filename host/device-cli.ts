// `npm run device -- [--server coap://HOST:PORT] [--activation-code CODE] [--state DIR]
//   [--interval D] [--batch N] [--max-delay D] [--keep-alive D] [--setup] [--setup-port N]
//   [--setup-timeout D] [--json]`
// The device core on a PC. Each flag is the mcconfig setting of the same name, passed on as
// typed to device/config.ts, so durations have its one grammar (`500ms`, `10s`, `2m`, `1h`; a
// bare number is milliseconds). With --json, stdout carries one JSON object per line with an
// `event` field (activated, subscribed, sent, command, error, setup with the page's url,
// setup-closed, and a last stats on SIGINT/SIGTERM); log lines go to stderr. The setup page
// binds loopback only. `runDeviceCli` is the same program for a test that swaps the sensors
// (the power-cut chaos run: test/chaos/power-cut-device.ts).
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { ConfigError } from "../device/config-error.js";
import { describeDeviceEvent } from "../device/event-text.js";
import type { LogSink } from "../kernel/log.js";
import { type RunDeviceOptions, runDevice } from "./run-device.js";

const USAGE = `usage: npm run device -- [--server coap://HOST:PORT] [--activation-code CODE] [--product-id ID]
  [--state DIR] [--interval D] [--batch N] [--max-delay D] [--keep-alive D] [--buffer-size N]
  [--persist-after D|auto] [--outbox-size N] [--hold-unstamped D]
  [--sensors LIST] [--actuators LIST] [--reactivate] [--log-level debug|info|warn|error]
  [--health-interval D] [--json]
  [--setup] [--setup-port N] [--setup-timeout D|off] [--no-setup]
  --setup opens the setup page at once (http://127.0.0.1:PORT/, PORT from --setup-port, default 8080,
  0 picks a free one); it also opens by itself when there is no token and no code, or a code or
  token is refused; --no-setup never opens it. A page opened by --setup closes after
  --setup-timeout (default 10m) without a request when the device lacks nothing
  D is a duration: 500ms, 10s, 2m, 1h; a bare number is milliseconds (as in mcconfig key=value)`;

function readFlags(args: string[]) {
  return parseArgs({
    args,
    options: {
      server: { type: "string" },
      "activation-code": { type: "string" },
      "product-id": { type: "string" },
      state: { type: "string", default: "state" },
      interval: { type: "string" },
      batch: { type: "string" },
      "max-delay": { type: "string" },
      "keep-alive": { type: "string" },
      "buffer-size": { type: "string" },
      "persist-after": { type: "string" },
      "outbox-size": { type: "string" },
      "hold-unstamped": { type: "string" },
      sensors: { type: "string" },
      actuators: { type: "string" },
      reactivate: { type: "boolean", default: false },
      setup: { type: "boolean", default: false },
      "setup-port": { type: "string" },
      "setup-timeout": { type: "string" },
      "no-setup": { type: "boolean", default: false },
      "log-level": { type: "string" },
      "health-interval": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
}

/** The program on `args` (the flags after `npm run device --`); `extra` swaps the sensors or endpoint settings. */
export async function runDeviceCli(
  args: string[],
  extra: Pick<RunDeviceOptions, "sensors" | "endpoint"> = {},
): Promise<void> {
  let parsed: ReturnType<typeof readFlags>;
  try {
    parsed = readFlags(args);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
    return;
  }
  const flags = parsed.values;
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const json = flags.json === true;
  const print = (line: object): void => {
    process.stdout.write(`${JSON.stringify(line)}\n`);
  };
  // The runner keeps the lines at or above the log level (--log-level, or settings.logLevel later).
  const log: LogSink = (level, message) => {
    process.stderr.write(`[${level}] ${message}\n`);
  };
  const settings: Record<string, string> = {};
  const set = (key: string, value: string | undefined): void => {
    if (value !== undefined) settings[key] = value;
  };
  set("server", flags.server);
  set("activationCode", flags["activation-code"]);
  set("productId", flags["product-id"]);
  set("interval", flags.interval);
  set("batch", flags.batch);
  set("maxDelay", flags["max-delay"]);
  set("keepAlive", flags["keep-alive"]);
  set("bufferSize", flags["buffer-size"]);
  set("persistAfter", flags["persist-after"]);
  set("outboxSize", flags["outbox-size"]);
  set("holdUnstamped", flags["hold-unstamped"]);
  set("sensors", flags.sensors);
  set("actuators", flags.actuators);
  set("logLevel", flags["log-level"]);
  set("healthInterval", flags["health-interval"]);
  if (flags.reactivate === true) settings.reactivateOnAuthFailure = "true";
  set("setupPort", flags["setup-port"]);
  set("setupTimeout", flags["setup-timeout"]);
  if (flags["no-setup"] === true) settings.setup = "never";

  let running: Awaited<ReturnType<typeof runDevice>>;
  try {
    running = await runDevice({
      ...extra,
      settings,
      stateDir: flags.state ?? "state",
      log,
      setup: flags.setup === true,
      onEvent: (event) =>
        json
          ? print(event)
          : process.stdout.write(
              `${event.event === "setup" ? `setup page: ${event.url} (open it in a browser)` : describeDeviceEvent(event)}\n`,
            ),
    });
  } catch (error) {
    const message = error instanceof ConfigError ? error.message : `cannot start: ${String(error)}`;
    if (json) print({ event: "error", message });
    process.stderr.write(`${message}\n`);
    process.exitCode = 2;
    return;
  }
  const { device } = running;
  const stop = (): void => {
    const stats = device.stats();
    const counters = {
      sampled: stats.sampled,
      sent: stats.sent,
      buffered: stats.buffered,
      dropped: stats.dropped,
      retransmissions: stats.retransmissions,
      recovered: stats.telemetry.recovered,
      persisted: stats.telemetry.persisted,
      flashWrites: stats.telemetry.flashWrites,
      pagesSkipped: stats.telemetry.pagesSkipped,
    };
    if (json) print({ event: "stats", ...counters });
    else process.stdout.write(`stats: ${JSON.stringify(counters)}\n`);
    running.stop();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await runDeviceCli(process.argv.slice(2));
