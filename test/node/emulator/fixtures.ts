// Shared steps of the platform tests: a platform on a free loopback port, a thing activated on it.

import type { PlatformEvent } from "../../../emulator/events.js";
import { type Platform, type PlatformOptions, startPlatform } from "../../../emulator/server.js";
import { RawClient } from "./raw-client.js";

export interface Running {
  platform: Platform;
  client: RawClient;
  events: PlatformEvent[];
  stop(): Promise<void>;
}

/** A platform on 127.0.0.1 port 0 with one raw client; events collected. */
export async function running(options: PlatformOptions = {}): Promise<Running> {
  const events: PlatformEvent[] = [];
  const platform = await startPlatform({ host: "127.0.0.1", port: 0, log: (e) => events.push(e), ...options });
  const client = await RawClient.open(platform.host, platform.port);
  return {
    platform,
    client,
    events,
    stop: async () => {
      client.close();
      await platform.stop();
    },
  };
}

/** Activates a thing with a fresh code; returns its token. */
export async function activate(r: Running): Promise<string> {
  const code = r.platform.addActivationCode();
  const reply = await r.client.request({
    method: "POST",
    path: ["v2", "things", ""],
    payload: JSON.stringify({ activationCode: code }),
  });
  const body = reply.json as { thingToken?: string };
  if (reply.code !== "2.01" || typeof body.thingToken !== "string")
    throw new Error(`activation failed: ${reply.code} ${reply.text}`);
  return body.thingToken;
}

export function writeValues(r: Running, token: string, values: unknown[], client = r.client) {
  return client.request({ method: "POST", path: ["v2", "things", token], payload: JSON.stringify({ values }) });
}

export function readKey(r: Running, token: string, key: string, query: string[] = [], client = r.client) {
  return client.request({ method: "GET", path: ["v2", "things", token, "resources", key], query });
}
