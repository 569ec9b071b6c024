// Runs the command-line peers the platform tests talk to (coap-cli, libcoap's coap-client-notls,
// the platform's own CLI) as child processes, and collects what they print.
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The repository root, from build/test/node/platform/. */
export const REPO = fileURLToPath(new URL("../../../../", import.meta.url));
export const COAP_CLI = `${REPO}node_modules/.bin/coap`;
export const PLATFORM_CLI = `${REPO}build/emulator/cli.js`;

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`). Exit status alone means little: both
 * coap-cli and coap-client-notls exit 0 on 4.xx replies. */
export function run(command: string, args: readonly string[], timeoutMs = 10_000): Promise<Finished> {
  return finished(spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] }), timeoutMs);
}

export function finished(child: ChildProcess, timeoutMs = 10_000): Promise<Finished> {
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Every line a child prints on stdout, kept, with a way to wait for one. */
export class Lines {
  readonly all: string[] = [];
  readonly #waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];

  constructor(child: ChildProcess) {
    if (child.stdout === null) throw new Error("child has no stdout pipe");
    createInterface({ input: child.stdout }).on("line", (line) => {
      this.all.push(line);
      for (const w of this.#waiters.filter((w) => w.match(line))) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(line);
      }
    });
  }

  /** The first line, printed already or later, that `match` accepts. */
  waitFor(match: (line: string) => boolean, timeoutMs = 10_000): Promise<string> {
    const seen = this.all.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }
}

/** coap-cli prints the response code, in ANSI bold and parentheses, on stderr. */
export function coapCliCodes(stderr: string): string[] {
  return [...stderr.matchAll(/\((\d\.\d\d)\)/g)].map((m) => m[1] as string);
}

/** Polls `condition` every 20 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function until(condition: () => boolean, timeoutMs = 2000): Promise<boolean> {
  for (const end = Date.now() + timeoutMs; !condition(); await delay(20)) {
    if (Date.now() > end) return false;
  }
  return true;
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
