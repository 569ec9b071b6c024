// Dashboard pages for the load run, in a thread of their own so they share an event loop with
// neither the platform nor the CoAP load clients. Each page does what the real one does on
// opening (the page and its scripts, the things and codes lists, its thing's keys, a 5-minute
// history) and then keeps a live stream open for its thing, reading every event, and reads the
// history again every HISTORY_EVERY_MS, as a window change would. "open" starts the pages,
// "close" ends them and answers with what they received.
import { Agent, get, type IncomingMessage } from "node:http";
import { parentPort, workerData } from "node:worker_threads";

const { httpPort, things } = workerData as { httpPort: number; things: number[] };
const port = parentPort;
if (port === null) throw new Error("dashboard-load-worker runs only as a worker thread");

const HISTORY_EVERY_MS = 10_000;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

export interface PagesReport {
  requests: number;
  errors: number;
  historyReads: number;
  valueEvents: number;
  values: number;
  bytes: number;
}

const report: PagesReport = { requests: 0, errors: 0, historyReads: 0, valueEvents: 0, values: 0, bytes: 0 };
const open: { stream: IncomingMessage | undefined; timer: NodeJS.Timeout | undefined; closed: boolean }[] = [];

function fetchText(path: string): Promise<string> {
  report.requests++;
  return new Promise((resolve) => {
    get({ host: "127.0.0.1", port: httpPort, path, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (text += chunk));
      res.on("end", () => {
        report.bytes += text.length;
        if (res.statusCode !== 200) report.errors++;
        resolve(text);
      });
    }).on("error", () => {
      report.errors++;
      resolve("");
    });
  });
}

async function history(thing: number): Promise<void> {
  await fetchText(`/api/things/${thing}/history?key=load&window=5m`);
  report.historyReads++;
}

async function openPage(thing: number): Promise<void> {
  const page: (typeof open)[number] = { stream: undefined, timer: undefined, closed: false };
  open.push(page);
  for (const path of ["/", "/style.css", "/app/app.js", "/vendor/uPlot.iife.min.js", "/api/things", "/api/codes"]) {
    await fetchText(path);
  }
  await fetchText(`/api/things/${thing}/keys`);
  await history(thing);
  if (page.closed) return;
  get({ host: "127.0.0.1", port: httpPort, path: `/api/events?thing=${thing}` }, (res) => {
    page.stream = res;
    if (res.statusCode !== 200) report.errors++;
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      report.bytes += chunk.length;
      for (const line of chunk.split("\n")) {
        if (line === "event: values") report.valueEvents++;
        else if (line.startsWith('data: {"thing"')) report.values += line.split('"key":').length - 1;
      }
    });
    res.on("error", () => {});
    if (page.closed) res.destroy();
  }).on("error", () => report.errors++);
  page.timer = setInterval(() => void history(thing), HISTORY_EVERY_MS);
}

port.on("message", (message: unknown) => {
  if (message === "open") {
    for (const thing of things) void openPage(thing);
  } else if (message === "close") {
    for (const page of open.splice(0)) {
      page.closed = true;
      clearInterval(page.timer);
      page.stream?.destroy();
    }
    port.postMessage({ ...report });
  } else if (message === "exit") {
    agent.destroy();
    port.close();
  }
});
