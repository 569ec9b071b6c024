// The endpoint under a hostile peer, in portable code (Node and XS): a client endpoint on a
// simulated network runs a stream of real exchanges (CON, NON, separate responses) and one
// observation (CON and NON notifications, some block-wise) against a lean server, while a
// hostile peer (hostile-peer.ts) hands it random, mutated and forged datagrams from the server's
// address and from others. All on one fake clock, from one seed: a failure replays exactly.
//
// What a run measures, for the spec and `npm run fuzz` to judge:
// - exceptions that escaped the endpoint's receive path or its timers, and internal errors it
//   caught and logged (log level "error"): both must be zero;
// - exact accounting: every datagram from another address is dropped as foreign, every
//   undecodable one from the server's address as malformed;
// - the exchanges: each ends with a response or a typed CoapRequestError, none hangs; how many
//   were answered by the real server, how many by a forgery (only an on-path attacker can);
// - the observation: real notifications delivered during the attack, forged ones, losses;
// - recovery: once the attacker stops, a new exchange gets the real answer and a real
//   notification arrives, within bounded simulated time;
// - bounded state: the most timers pending at once, and none left after close().

import { CoapRequestError, type CoapResponse, type RequestOptions } from "../../coap/client-api.js";
import { Code } from "../../coap/codes.js";
import { decodeMessage } from "../../coap/decoder.js";
import { CoapEndpoint } from "../../coap/endpoint.js";
import { OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import type { EndpointStats } from "../../coap/stats.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { type BoundedAnswer, BoundedCoapServer, type BoundedRequest } from "../sim/bounded-coap-server.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom as SimRandom } from "../sim/seeded-random.js";
import { SimNetwork } from "../sim/sim-network.js";
import { SeededRandom } from "./datagram-fuzz.js";
import { type HostileKind, HostilePeer, type HostileProfile } from "./hostile-peer.js";
import { TapPort } from "./tap-port.js";

export const FUZZ_CLIENT: PeerAddress = Object.freeze({ address: "192.0.2.10", port: 40001 });
export const FUZZ_SERVER: PeerAddress = Object.freeze({ address: "192.0.2.1", port: 5683 });

/** The server notifies every this many ms; Max-Age on notifications is 10 s. */
const NOTIFY_EVERY_MS = 2_000;
const MAX_AGE_S = 10;
/** Every 8th notification is larger than one block, so it arrives block-wise (RFC 7959 §2.6). */
const LARGE_EVERY = 8;
/** Real notification bodies remembered to tell them from forged ones. */
const AUTHENTIC_LIMIT = 16;
/** The observation's liveness window: Max-Age plus 2 s, as a subscription's keepAlive + grace. */
const LIVENESS_MS = 12_000;
/**
 * How long recovery may take after the attack: a forged fresher Observe value makes the real
 * notifications stale (RFC 7641 §3.4), so the liveness window runs out, then re-registration
 * (with backoff if the attack made earlier ones fail) and the next notification.
 */
export const RECOVERY_LIMIT_MS = 60_000;
/** Exchanges tried after the attack before recovery counts as failed. */
export const RECOVERY_ATTEMPTS = 3;
const KEPT_LINES = 10;

export interface EndpointFuzzOptions {
  readonly count: number;
  readonly seed: number;
  readonly profile: HostileProfile;
  /** Mean hostile datagrams between two steps of simulated time (default 3). */
  readonly meanBurst?: number;
  /** Called after every `checkpointEvery` datagrams (default: never). */
  readonly checkpointEvery?: number;
  readonly onCheckpoint?: (sent: number) => void;
}

export interface EndpointFuzzSummary {
  readonly seed: number;
  readonly profile: HostileProfile;
  readonly hostile: {
    readonly total: number;
    readonly fromServer: number;
    readonly foreign: number;
    /** From the server's address and rejected by the codec. */
    readonly undecodableFromServer: number;
    readonly byKind: Readonly<Record<HostileKind, number>>;
  };
  /** Datagrams the real network delivered to the endpoint. */
  readonly legitimateDelivered: number;
  readonly exchanges: {
    readonly attempted: number;
    /** Answered with the real server's body. */
    readonly authentic: number;
    /** Answered with another body (a forgery carrying a live token and ID). */
    readonly forged: number;
    readonly failed: Readonly<Record<string, number>>;
    /** Ended by something other than a response or a CoapRequestError. */
    readonly untyped: number;
  };
  readonly notifications: {
    readonly sent: number;
    readonly authentic: number;
    readonly forged: number;
    readonly lost: number;
    readonly reestablished: number;
  };
  readonly stats: EndpointStats;
  /** Exceptions that escaped the endpoint's receive path or a timer (first few). */
  readonly escaped: readonly string[];
  readonly escapedCount: number;
  /** Log lines at level "error": an internal failure the endpoint caught (first few). */
  readonly internalErrors: readonly string[];
  readonly internalErrorCount: number;
  readonly maxPendingTimers: number;
  readonly maxObservations: number;
  /** Timers still pending after close() and the network drained: a leak if not zero. */
  readonly timersAfterClose: number;
  readonly recovery: {
    /** A new exchange got the real answer within RECOVERY_ATTEMPTS attempts. */
    readonly exchangeAuthentic: boolean;
    readonly exchangeAttempts: number;
    /**
     * ms from the end of the attack to the first real notification, or undefined if none came
     * within RECOVERY_LIMIT_MS.
     */
    readonly notificationAfterMs: number | undefined;
  };
  readonly simulatedMs: number;
}

function bodyOf(response: CoapResponse): string {
  return decodeUtf8(response.payload);
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

export async function runEndpointFuzz(options: EndpointFuzzOptions): Promise<EndpointFuzzSummary> {
  const fuzzRandom = new SeededRandom(options.seed);
  // Every chain here (a response to the next request, a notification to its handler) runs
  // within a few microtask turns; fewer settling turns per timer keep long runs fast.
  const clock = new FakeClock({ settleTurns: 16 });
  const net = new SimNetwork({
    clock,
    random: new SimRandom(options.seed ^ 0x5a5a),
    conditions: { delayMs: 4, jitterMs: 3 },
    traceLimit: 16,
  });

  // The real server: echoes /echo and /slow (the latter as a separate response), serves /obs.
  const authenticBodies: string[] = [];
  let notificationsSent = 0;
  let currentBody = "n0";
  // Each representation has its own ETag, so a block-wise notification that changes between
  // its blocks is fetched again rather than stitched together (RFC 7959 §2.4).
  const observed = (): BoundedAnswer => ({
    code: Code.Content,
    payload: currentBody,
    options: [
      { number: OptionNumber.ETag, value: notificationsSent + 1 },
      { number: OptionNumber.MaxAge, value: MAX_AGE_S },
    ],
  });
  const answer = (request: BoundedRequest): BoundedAnswer => {
    const text = decodeUtf8(request.payload);
    switch (request.path) {
      case "/echo":
        return { code: Code.Changed, payload: `echo:${text}` };
      case "/slow":
        return { code: Code.Changed, payload: `slow:${text}`, separateAfterMs: 25 };
      case "/obs":
        return observed();
      default:
        return { code: Code.NotFound };
    }
  };
  const server = new BoundedCoapServer({ network: net, address: FUZZ_SERVER, handler: answer });
  const tap = new TapPort(net.bind(FUZZ_CLIENT));

  const internalErrors: string[] = [];
  let internalErrorCount = 0;
  const endpoint = new CoapEndpoint({
    port: tap,
    server: FUZZ_SERVER,
    clock,
    random: new SimRandom(options.seed ^ 0xa5a5),
    log: (level, text) => {
      if (level !== "error") return;
      internalErrorCount++;
      if (internalErrors.length < KEPT_LINES) internalErrors.push(text);
    },
    nonTimeoutMs: 4_000,
    separateResponseTimeoutMs: 4_000,
    reregisterBackoff: { initialMs: 500, maxMs: 4_000 },
  });

  // The observation, with its own liveness window as the thing subscription sets one
  // (keepAlive + grace): a forged Max-Age cannot stretch it.
  const notifications = { sent: 0, authentic: 0, forged: 0, lost: 0, reestablished: 0 };
  let lastAuthenticAt = -1;
  endpoint.observe(
    { method: "GET", path: "/obs" },
    {
      onNotification: (response) => {
        if (response.code === Code.Content && authenticBodies.indexOf(bodyOf(response)) >= 0) {
          notifications.authentic++;
          lastAuthenticAt = clock.now();
        } else notifications.forged++;
      },
      onLost: () => void notifications.lost++,
      onReestablished: () => void notifications.reestablished++,
    },
    { livenessMs: LIVENESS_MS },
  );
  authenticBodies.push(currentBody);
  const notifyTick = (): void => {
    notificationsSent++;
    const n = notificationsSent;
    currentBody = n % LARGE_EVERY === 0 ? `n${n}:${"x".repeat(1500)}` : `n${n}`;
    authenticBodies.push(currentBody);
    if (authenticBodies.length > AUTHENTIC_LIMIT) authenticBodies.shift();
    if (server.notify("/obs", observed(), n % 2 === 0)) notifications.sent++;
    notifyTimer = clock.setTimer(notifyTick, NOTIFY_EVERY_MS);
  };
  let notifyTimer = clock.setTimer(notifyTick, NOTIFY_EVERY_MS);

  // The exchanges: one at a time, each checked against what the real server answers.
  const exchanges = { attempted: 0, authentic: 0, forged: 0, untyped: 0 };
  const failed: Record<string, number> = {};
  const workloadRandom = new SimRandom(options.seed ^ 0x3c3c);
  let stopWorkload = false;
  let workloadDone = false;
  const escaped: string[] = [];
  let escapedCount = 0;
  const noteEscape = (error: unknown): void => {
    escapedCount++;
    if (escaped.length < KEPT_LINES) escaped.push(describe(error));
  };
  const exchange = async (id: string): Promise<boolean> => {
    const roll = workloadRandom.int(20);
    const slow = roll < 5;
    const request: RequestOptions = {
      method: "POST",
      path: slow ? "/slow" : "/echo",
      payload: id,
      confirmable: roll < 17,
    };
    exchanges.attempted++;
    try {
      const response = await endpoint.request(request);
      const authentic = bodyOf(response) === `${slow ? "slow" : "echo"}:${id}`;
      if (authentic) exchanges.authentic++;
      else exchanges.forged++;
      return authentic;
    } catch (error) {
      if (error instanceof CoapRequestError) failed[error.kind] = (failed[error.kind] ?? 0) + 1;
      else {
        exchanges.untyped++;
        noteEscape(error);
      }
      return false;
    }
  };
  void (async () => {
    for (let i = 1; !stopWorkload; i++) await exchange(`q${i}`);
    workloadDone = true;
  })().catch(noteEscape);

  // The attack.
  const peer = new HostilePeer({ random: fuzzRandom, profile: options.profile, server: FUZZ_SERVER, live: tap });
  const byKind: Record<HostileKind, number> = { random: 0, mutated: 0, forged: 0, replay: 0 };
  let fromServer = 0;
  let undecodableFromServer = 0;
  let maxPendingTimers = 0;
  let maxObservations = 0;
  const meanBurst = options.meanBurst ?? 3;
  const checkpointEvery = options.checkpointEvery ?? 0;
  let sent = 0;
  while (sent < options.count) {
    const burst = 1 + fuzzRandom.below(2 * meanBurst - 1);
    for (let i = 0; i < burst && sent < options.count; i++) {
      const datagram = peer.next();
      byKind[datagram.kind]++;
      if (datagram.fromServer) {
        fromServer++;
        try {
          decodeMessage(datagram.bytes);
        } catch {
          undecodableFromServer++;
        }
      }
      try {
        tap.inject(datagram.bytes, datagram.from);
      } catch (error) {
        noteEscape(error);
      }
      sent++;
      if (checkpointEvery > 0 && sent % checkpointEvery === 0) options.onCheckpoint?.(sent);
    }
    try {
      await clock.advance(1 + fuzzRandom.below(20));
    } catch (error) {
      noteEscape(error);
    }
    if (clock.pendingTimers > maxPendingTimers) maxPendingTimers = clock.pendingTimers;
    if (endpoint.observationCount > maxObservations) maxObservations = endpoint.observationCount;
  }

  // Recovery: the attacker has stopped.
  const attackEndedAt = clock.now();
  stopWorkload = true;
  let exchangeAuthentic = false;
  let exchangeAttempts = 0;
  let notificationAfterMs: number | undefined;
  try {
    await clock.runUntil(() => workloadDone, RECOVERY_LIMIT_MS);
    // State the attacker planted may cost an attempt or two: a forged message with the ID the
    // server uses next sits in the duplicate cache (§4.5 keys on the ID alone), so the real
    // message with that ID is taken for a duplicate and the exchange times out.
    while (!exchangeAuthentic && exchangeAttempts < RECOVERY_ATTEMPTS) {
      exchangeAttempts++;
      let done = false;
      const attempt = exchange(`final${exchangeAttempts}`).then((authentic) => {
        done = true;
        return authentic;
      });
      await clock.runUntil(() => done, RECOVERY_LIMIT_MS);
      exchangeAuthentic = await attempt;
    }
    await clock.runUntil(() => lastAuthenticAt > attackEndedAt, RECOVERY_LIMIT_MS);
    notificationAfterMs = lastAuthenticAt - attackEndedAt;
  } catch {
    // Left undefined / false: the summary shows what did not recover.
  }

  const stats = endpoint.stats;
  clock.clearTimer(notifyTimer);
  endpoint.close();
  server.close();
  await clock.runUntilIdle();
  return {
    seed: options.seed,
    profile: options.profile,
    hostile: { total: sent, fromServer, foreign: sent - fromServer, undecodableFromServer, byKind },
    legitimateDelivered: tap.delivered,
    exchanges: { ...exchanges, failed },
    notifications: { ...notifications },
    stats,
    escaped,
    escapedCount,
    internalErrors,
    internalErrorCount,
    maxPendingTimers,
    maxObservations,
    timersAfterClose: clock.pendingTimers,
    recovery: { exchangeAuthentic, exchangeAttempts, notificationAfterMs },
    simulatedMs: attackEndedAt,
  };
}

/** Failures an exchange may end with under attack; anything else (cancelled, queue-full, bad-request …) is a fault. */
const EXPECTED_FAILURES: readonly string[] = Object.freeze(["timeout", "reset", "block-transfer", "too-large"]);
/**
 * Timers pending at once: exchanges, the observation, block fetches, the server's CONs, datagrams
 * in flight. A leak grows with the count.
 */
export const MAX_PENDING_TIMERS = 32;

/** The properties a run must hold; returns the ones it broke (empty: it passed). */
export function judgeEndpointFuzz(s: EndpointFuzzSummary): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok) problems.push(what);
  };
  check(s.escapedCount === 0, `${s.escapedCount} exception(s) escaped: ${s.escaped.join(" | ")}`);
  check(
    s.internalErrorCount === 0,
    `${s.internalErrorCount} internal error(s) logged: ${s.internalErrors.join(" | ")}`,
  );
  check(s.exchanges.untyped === 0, `${s.exchanges.untyped} exchange(s) ended without a response or a CoapRequestError`);
  check(
    s.stats.droppedForeign === s.hostile.foreign,
    `droppedForeign ${s.stats.droppedForeign}, datagrams from other addresses ${s.hostile.foreign}`,
  );
  check(
    s.stats.droppedMalformed === s.hostile.undecodableFromServer,
    `droppedMalformed ${s.stats.droppedMalformed}, undecodable datagrams from the server's address ${s.hostile.undecodableFromServer}`,
  );
  check(
    s.stats.datagramsReceived === s.legitimateDelivered + s.hostile.total,
    `datagramsReceived ${s.stats.datagramsReceived}, delivered ${s.legitimateDelivered} + hostile ${s.hostile.total}`,
  );
  for (const kind of Object.keys(s.exchanges.failed))
    check(EXPECTED_FAILURES.indexOf(kind) >= 0, `exchanges failed with "${kind}"`);
  check(s.maxObservations <= 1, `${s.maxObservations} observations at once`);
  check(s.maxPendingTimers <= MAX_PENDING_TIMERS, `${s.maxPendingTimers} timers pending at once`);
  check(s.timersAfterClose === 0, `${s.timersAfterClose} timer(s) left after close()`);
  check(s.recovery.exchangeAuthentic, `no real answer within ${RECOVERY_ATTEMPTS} exchanges after the attack`);
  check(
    s.recovery.notificationAfterMs !== undefined,
    `no real notification within ${RECOVERY_LIMIT_MS} ms after the attack`,
  );
  const failed = Object.values(s.exchanges.failed).reduce((a, b) => a + b, 0);
  if (s.profile === "blind") {
    // Tokens are 8 random bytes: a blind forgery never passes for a response or a notification.
    check(s.exchanges.forged === 0, `${s.exchanges.forged} forged response(s) accepted from a blind attacker`);
    check(
      s.notifications.forged === 0,
      `${s.notifications.forged} forged notification(s) delivered from a blind attacker`,
    );
    // Only a guessed message ID can hurt (a forged RST/ACK, or a duplicate-cache entry, hitting a live one).
    check(
      failed * 200 <= s.exchanges.attempted,
      `${failed} of ${s.exchanges.attempted} exchanges failed (more than 0.5 %)`,
    );
    check(
      s.notifications.authentic * 10 >= s.notifications.sent * 9,
      `${s.notifications.authentic} of ${s.notifications.sent} real notifications delivered`,
    );
  } else {
    // About a third of this attacker's datagrams carry live tokens or IDs from the server's
    // address, and each hit can cost an exchange or a liveness window; most still get through.
    check(
      s.exchanges.authentic * 5 >= s.exchanges.attempted * 4,
      `only ${s.exchanges.authentic} of ${s.exchanges.attempted} exchanges got the real answer`,
    );
    check(
      s.notifications.authentic * 2 >= s.notifications.sent,
      `only ${s.notifications.authentic} of ${s.notifications.sent} real notifications delivered`,
    );
  }
  return problems;
}
