// The device in the Moddable simulator with its `memory` trace (moddable/memory-trace.ts), against
// the local platform, headless: the run of tools/device-memory.ts (batches, keep-alives, a command
// every 5 s, the platform away once), with the SDK's own heap figures read from the trace. Needs
// the Moddable SDK's mcsim and xvfb-run; not part of npm test.
//
//   node build/tools/sim-memory.js --app $MODDABLE/build/bin/lin/mc/debug/<app>/mc.so --port P
//     --code CODE [--prefs DIR] [--xsbug-port 5181] [--minutes 5] [--gap-every M]
//
// The app must be built with server=coap://127.0.0.1:P activationCode=CODE memory=… (any period);
// --prefs is the folder of its Preference file (config file.root, which a scratch manifest sets:
// moddable/README.md#memory), emptied first so the device activates; without it the simulator's
// default file is used as it is, and a token stored there earlier is refused by the fresh
// platform. A relay on P in front of the platform times the first datagram after the launch.
// Prints the trace's memory lines as a table (slots in the simulator are 32 bytes: ESP32 bytes
// are slots / 2 + chunks), the time from launch to the first trace line and to the first
// datagram, and the device's log on stderr.
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket, type RemoteInfo } from "node:dgram";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { RestartablePlatform, sleep, waitFor, writeAsAnotherClient } from "../test/e2e/harness.js";

export interface SimMemoryOptions {
  readonly app: string;
  readonly port: number;
  readonly code: string;
  readonly prefs?: string;
  readonly xsbugPort?: number;
  readonly minutes?: number;
  /** Another gap of the platform every this many minutes (default: one, at 40 % of the run). */
  readonly gapEveryMinutes?: number;
  readonly onLine?: (line: string) => void;
}

export interface SimMemoryLine {
  /** Since the launch of mcsim. */
  readonly atMs: number;
  readonly slotBytes: number;
  readonly chunkBytes: number;
  readonly keys: number;
  readonly stackPeak: number;
}

export interface SimMemoryReport {
  readonly lines: readonly SimMemoryLine[];
  /** Launch of mcsim to the app's first trace line, and to the first datagram the platform got. */
  readonly firstTraceMs: number;
  readonly firstDatagramMs: number;
  readonly subscribed: number;
  readonly commandsApplied: number;
  readonly gaps: number;
}

const MEMORY_LINE = /memory: slots (\d+) B, chunks (\d+) B, keys (\d+), stack peak (\d+) B/;

/** A UDP relay on `port` in front of the platform at `target`: the device's one peer. */
function relay(port: number, target: () => number, onFirst: () => void) {
  const front = createSocket("udp4");
  const back = createSocket("udp4");
  let device: RemoteInfo | undefined;
  let first = true;
  front.on("message", (bytes, from) => {
    if (first) {
      first = false;
      onFirst();
    }
    device = from;
    back.send(bytes, target(), "127.0.0.1");
  });
  back.on("message", (bytes) => {
    if (device !== undefined) front.send(bytes, device.port, device.address);
  });
  front.bind(port, "127.0.0.1");
  back.bind(0, "127.0.0.1");
  return {
    close: () => {
      front.close();
      back.close();
    },
  };
}

function stopGroup(child: ChildProcess | undefined): void {
  if (child?.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, "SIGTERM");
  } catch {
    // Already gone.
  }
}

export async function measureSimMemory(options: SimMemoryOptions): Promise<SimMemoryReport> {
  const minutes = options.minutes ?? 5;
  const xsbugPort = options.xsbugPort ?? 5181;
  const onLine = options.onLine ?? (() => undefined);
  if (options.prefs !== undefined) {
    rmSync(options.prefs, { recursive: true, force: true });
    mkdirSync(options.prefs, { recursive: true });
  }
  const platform = new RestartablePlatform([options.code]);
  await platform.start(0);
  const backPort = platform.port;
  let launchedAt = 0;
  let firstDatagramAt = 0;
  let firstTraceAt = 0;
  const front = relay(
    options.port,
    () => backPort,
    () => void (firstDatagramAt = Date.now()),
  );
  const lines: SimMemoryLine[] = [];
  const log: string[] = [];
  let logger: ChildProcess | undefined;
  let sim: ChildProcess | undefined;
  try {
    logger = spawn(
      process.execPath,
      [fileURLToPath(new URL("./xsbug-log.js", import.meta.url)), "--port", String(xsbugPort)],
      { stdio: ["ignore", "pipe", "inherit"], detached: true },
    );
    createInterface({ input: logger.stdout! }).on("line", (line) => {
      log.push(line);
      onLine(line);
      const match = MEMORY_LINE.exec(line);
      // The logger's own "(connected)" comes before anything the app traces.
      if (match !== null && firstTraceAt === 0) firstTraceAt = Date.now();
      if (match !== null)
        lines.push({
          atMs: Date.now() - launchedAt,
          slotBytes: Number(match[1]),
          chunkBytes: Number(match[2]),
          keys: Number(match[3]),
          stackPeak: Number(match[4]),
        });
    });
    await sleep(500);
    const mcsim = join(process.env.MODDABLE ?? "", "build/bin/lin/release/mcsim");
    launchedAt = Date.now();
    sim = spawn("xvfb-run", ["-a", mcsim, options.app], {
      stdio: "ignore",
      detached: true,
      env: { ...process.env, XSBUG_HOST: "127.0.0.1", XSBUG_PORT: String(xsbugPort) },
    });
    const count = (text: string): number => log.filter((line) => line.includes(text)).length;
    await waitFor("the subscription", () => count("subscribed to the thing's channel") > 0, 60_000);
    const prefsFile = join(options.prefs ?? "/tmp", "modpreferences.json");
    const token = (JSON.parse(readFileSync(prefsFile, "utf8")) as { tt?: { thingToken?: string } }).tt?.thingToken;
    if (token === undefined) throw new Error(`no thing token in ${prefsFile}`);
    const endAt = launchedAt + minutes * 60_000;
    let nextGap = launchedAt + minutes * 60_000 * 0.4;
    let gaps = 0;
    let level = 0;
    while (Date.now() < endAt) {
      level = 1 - level;
      await writeAsAnotherClient(backPort, token, [
        { key: "led", value: level },
        { key: "fan", value: level === 1 ? 0.75 : 0.25 },
      ]).catch(() => "lost");
      if (Date.now() >= nextGap) {
        gaps++;
        const subscribed = count("subscribed to the thing's channel");
        await platform.stop();
        await sleep(30_000);
        await platform.start(backPort);
        await waitFor(
          "the subscription after the gap",
          () => count("subscribed to the thing's channel") > subscribed,
          90_000,
        );
        nextGap =
          options.gapEveryMinutes === undefined ? Number.POSITIVE_INFINITY : nextGap + options.gapEveryMinutes * 60_000;
      }
      await sleep(5_000);
    }
    return {
      lines,
      firstTraceMs: firstTraceAt - launchedAt,
      firstDatagramMs: firstDatagramAt - launchedAt,
      subscribed: count("subscribed to the thing's channel"),
      // One line per command applied ("actuator led set to …"); the others naming the actuator are not.
      commandsApplied: count("actuator led set to"),
      gaps,
    };
  } finally {
    stopGroup(sim);
    stopGroup(logger);
    front.close();
    await platform.dispose();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      app: { type: "string" },
      port: { type: "string" },
      code: { type: "string" },
      prefs: { type: "string" },
      "xsbug-port": { type: "string" },
      minutes: { type: "string" },
      "gap-every": { type: "string" },
    },
  });
  if (values.app === undefined || values.port === undefined || values.code === undefined)
    throw new Error("--app, --port and --code are required");
  const report = await measureSimMemory({
    app: values.app,
    port: Number(values.port),
    code: values.code,
    prefs: values.prefs,
    xsbugPort: values["xsbug-port"] === undefined ? undefined : Number(values["xsbug-port"]),
    minutes: values.minutes === undefined ? undefined : Number(values.minutes),
    gapEveryMinutes: values["gap-every"] === undefined ? undefined : Number(values["gap-every"]),
    onLine: (line) => console.error(line),
  });
  console.log(
    `launch → first trace line ${report.firstTraceMs} ms, → first datagram ${report.firstDatagramMs} ms; subscribed ${report.subscribed} times, ${report.commandsApplied} led commands applied, ${report.gaps} gap(s)\n`,
  );
  console.log(
    "| since launch | slots (B, 32 each) | chunks (B) | keys | stack peak (B) | ESP32 bytes (slots / 2 + chunks) |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|");
  for (const line of report.lines)
    console.log(
      `| ${(line.atMs / 1000).toFixed(0)} s | ${line.slotBytes} | ${line.chunkBytes} | ${line.keys} | ${line.stackPeak} | ${line.slotBytes / 2 + line.chunkBytes} |`,
    );
}
