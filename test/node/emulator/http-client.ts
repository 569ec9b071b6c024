// HTTP for the dashboard tests, on node:http so a test controls every header (Host, Origin,
// Content-Length) and the raw request target, and a live stream's events can be awaited.
import { request } from "node:http";
import { connect } from "node:net";

export interface HttpReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

export interface HttpSpec {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** One request to 127.0.0.1:port; JSON bodies get Content-Type application/json unless told otherwise. */
export function http(port: number, spec: HttpSpec): Promise<HttpReply> {
  const headers: Record<string, string> = { ...spec.headers };
  if (spec.body !== undefined && !Object.keys(headers).some((h) => h.toLowerCase() === "content-type")) {
    headers["Content-Type"] = "application/json";
  }
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port, method: spec.method ?? "GET", path: spec.path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          let json: unknown;
          try {
            json = JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(spec.body);
  });
}

/** Sends `raw` as it is over TCP and returns what comes back until the server closes or `ms` pass. */
export function rawHttp(port: number, raw: string, ms = 2000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.on("data", (d: Buffer) => (received += d.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(raw);
  });
}

export interface LiveEvent {
  event: string;
  data: unknown;
}

/** A live stream (server-sent events) read as events, with a way to wait for one. */
export class LiveStream {
  readonly status: number;
  readonly events: LiveEvent[] = [];
  readonly #close: () => void;
  #buffer = "";
  #closed = false;
  readonly #waiters: { match: (e: LiveEvent) => boolean; resolve: (e: LiveEvent) => void }[] = [];

  private constructor(status: number, close: () => void) {
    this.status = status;
    this.#close = close;
  }

  static open(port: number, path: string, headers: Record<string, string> = {}): Promise<LiveStream> {
    return new Promise((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port, path, headers, agent: false }, (res) => {
        const stream = new LiveStream(res.statusCode ?? 0, () => req.destroy());
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => stream.#take(chunk));
        res.on("close", () => (stream.#closed = true));
        res.on("error", () => (stream.#closed = true));
        resolve(stream);
      });
      req.on("error", reject);
      req.end();
    });
  }

  /** Whether the server ended the stream. */
  get closed(): boolean {
    return this.#closed;
  }

  /** The first event, received already or later, that `match` accepts. */
  waitFor(match: (e: LiveEvent) => boolean, timeoutMs = 3000): Promise<LiveEvent> {
    const seen = this.events.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  }

  close(): void {
    this.#close();
  }

  #take(chunk: string): void {
    this.#buffer += chunk;
    for (let end = this.#buffer.indexOf("\n\n"); end >= 0; end = this.#buffer.indexOf("\n\n")) {
      const block = this.#buffer.slice(0, end);
      this.#buffer = this.#buffer.slice(end + 2);
      let event = "message";
      const data: string[] = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) event = line.slice(7);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length === 0) continue;
      const e = { event, data: JSON.parse(data.join("\n")) as unknown };
      this.events.push(e);
      for (const w of this.#waiters.filter((w) => w.match(e))) {
        this.#waiters.splice(this.#waiters.indexOf(w), 1);
        w.resolve(e);
      }
    }
  }
}
