// A headless stand-in for xsbug: listens where Moddable's simulator (mcsim) or a serial2xsbug
// bridge sends its debugger connection and prints every trace() line, so a debug build's log
// can be read in a terminal or CI without the GUI. Exceptions that would stop in xsbug are
// printed with their stack and the machine is told to go on.
//
//   node build/tools/xsbug-log.js [--port 5002] [--seconds N] [--until TEXT] [--exceptions]
//   XSBUG_PORT=5002 xvfb-run -a $MODDABLE/build/bin/lin/release/mcsim $MODDABLE/build/bin/lin/mc/debug/main/mc.so
//
// --seconds: exit 0 after N seconds. --until: exit 0 as soon as a line contains TEXT (exit 1 if
// --seconds runs out first). --exceptions: stop at every exception thrown, caught ones included
// (as xsbug's "break on exceptions" does), print where, and go on. Lines go to stdout as
// "<machine> <text>".
//
// The xsbug protocol (xs/sources/xsDebug.c): each side writes XML fragments. The machine sends
// <xsbug><login name=… value=…/></xsbug>, then <xsbug><log>text</log></xsbug> per trace, and
// <xsbug><break path=… line=…>message</break>…</xsbug> when it stops; the debugger answers
// <set-all-breakpoints>…</set-all-breakpoints> (which lets a waiting machine start) and <go/>.
import { createServer, type Socket } from "node:net";
import { parseArgs } from "node:util";

/** Bytes kept while waiting for a fragment's end: a runaway machine cannot exhaust memory. */
const MAX_PENDING = 1 << 20;
const ENTITIES: Readonly<Record<string, string>> = Object.freeze({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" });

function unescapeXml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name[0] === "#")
      return String.fromCodePoint(
        name[1] === "x" || name[1] === "X" ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10),
      );
    return ENTITIES[name] ?? whole;
  });
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return match === null ? undefined : unescapeXml(match[1]!);
}

const { values } = parseArgs({
  options: {
    port: { type: "string", default: process.env.XSBUG_PORT ?? "5002" },
    seconds: { type: "string" },
    until: { type: "string" },
    exceptions: { type: "boolean", default: false },
  },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`--port: ${values.port} is not a port`);
const until = values.until;

function emit(machine: string, text: string): void {
  for (const line of text.replace(/\n$/, "").split("\n")) {
    process.stdout.write(`${machine} ${line}\n`);
    if (until !== undefined && line.includes(until)) {
      process.stdout.write(`xsbug-log: saw ${JSON.stringify(until)}\n`);
      process.exit(0);
    }
  }
}

function serve(socket: Socket): void {
  let machine = "?";
  let pending = "";
  /** A trace that has not ended with a newline yet: XS may split one line over several <log>s. */
  let partial = "";
  const command = (text: string): void => {
    if (!socket.destroyed) socket.write(`\r\n${text}\r\n`);
  };
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => {
    pending += chunk;
    for (;;) {
      const end = pending.indexOf("</xsbug>");
      if (end < 0) break;
      const fragment = pending.slice(0, end);
      pending = pending.slice(end + "</xsbug>".length);
      const login = /<login\b[^>]*>/.exec(fragment);
      if (login !== null) {
        machine = attribute(login[0], "name") ?? machine;
        emit(machine, "(connected)");
        // The machine waits for its breakpoints before it runs.
        command(
          `<set-all-breakpoints>${values.exceptions ? '<breakpoint path="exceptions" line="0"/>' : ""}</set-all-breakpoints>`,
        );
      }
      for (const log of fragment.matchAll(/<log\b[^>]*>([\s\S]*?)<\/log>/g)) {
        partial += unescapeXml(log[1]!);
        const last = partial.lastIndexOf("\n");
        if (last >= 0) {
          emit(machine, partial.slice(0, last + 1));
          partial = partial.slice(last + 1);
        }
      }
      const broken = /<break\b([^>]*)>([\s\S]*?)<\/break>/.exec(fragment);
      if (broken !== null) {
        const where = `${attribute(broken[0], "path") ?? "?"}:${attribute(broken[0], "line") ?? "?"}`;
        emit(machine, `BREAK ${where}: ${unescapeXml(broken[2]!)}`);
        for (const frame of fragment.matchAll(/<frame\b[^>]*>/g)) {
          emit(
            machine,
            `  at ${attribute(frame[0], "name") ?? "?"} ${attribute(frame[0], "path") ?? ""}:${attribute(frame[0], "line") ?? ""}`,
          );
        }
        command("<go/>");
      }
    }
    if (pending.length > MAX_PENDING) pending = pending.slice(-MAX_PENDING);
  });
  socket.on("close", () => {
    if (partial !== "") emit(machine, partial);
    emit(machine, "(disconnected)");
  });
  socket.on("error", () => socket.destroy());
}

const server = createServer(serve);
server.listen(port, "127.0.0.1", () => process.stderr.write(`xsbug-log: listening on 127.0.0.1:${port}\n`));
if (values.seconds !== undefined) {
  const seconds = Number(values.seconds);
  if (!(seconds > 0)) throw new RangeError(`--seconds: ${values.seconds} is not a positive number`);
  setTimeout(() => {
    if (until !== undefined) process.stdout.write(`xsbug-log: ${JSON.stringify(until)} not seen in ${seconds} s\n`);
    process.exit(until === undefined ? 0 : 1);
  }, seconds * 1000);
}
