// Who decides how long an unanswered write may be re-sent as the same message: the endpoint that
// owns the transmission parameters (RFC 7252 §4.8.2 EXCHANGE_LIFETIME), not telemetry. Telemetry,
// the theThings.IO batch sink, the client and a real CoapEndpoint on the simulated network, with
// every write lost: within the lifetime each attempt is the same CoAP message (same message ID
// and token, so a server with duplicate detection stores it once, §4.5); after it, a new message,
// which is then re-sent as itself.
import { MessageType } from "../../coap/codes.js";
import { CoapEndpoint, type EndpointOptions } from "../../coap/endpoint.js";
import { tokenKey } from "../../coap/tokens.js";
import { Telemetry } from "../../sensors/telemetry.js";
import { ThethingsBatchSink } from "../../sensors/thethings-batch-sink.js";
import { ThethingsClient } from "../../thethings/client.js";
import { ScriptedSensor, SettableWallClock } from "../core-fakes/telemetry-fakes.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, SERVER_ADDRESS } from "../sim/endpoint-fixture.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom, SeededRandom } from "../sim/seeded-random.js";
import { SimCoapServer } from "../sim/sim-coap-server.js";
import { type SimDatagram, SimNetwork } from "../sim/sim-network.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";

interface Attempt {
  readonly messageId: number;
  readonly token: string;
  readonly firstAt: number;
  readonly lastAt: number;
}

/** One value to write, every write lost; returns each CoAP message's transmissions, in order. */
async function lostWrites(
  endpoint: Partial<EndpointOptions>,
  runMs: number,
): Promise<{ attempts: Attempt[]; lifetimeMs: number }> {
  const clock = new FakeClock();
  const net = new SimNetwork({ clock, random: new SeededRandom(5), conditions: { delayMs: 5 } });
  new SimCoapServer({ network: net, address: SERVER_ADDRESS });
  net.drop({ from: CLIENT_ADDRESS, type: MessageType.CON }, { count: 1_000_000 });
  const coap = new CoapEndpoint({
    port: net.bind(CLIENT_ADDRESS),
    server: SERVER_ADDRESS,
    clock,
    random: new ConstantRandom(0),
    ...endpoint,
  });
  const client = new ThethingsClient({ coap, log: () => undefined });
  client.setThingToken(TOKEN);
  const sensor = new ScriptedSensor((n) => ({ temperature: n }));
  const telemetry = new Telemetry({
    bindings: [{ sensor, readings: [{ path: "temperature", key: "temperature" }] }],
    sink: new ThethingsBatchSink({ client }),
    clock,
    wallClock: new SettableWallClock(Date.UTC(2024, 4, 6)),
    random: new ConstantRandom(0),
    config: { intervalMs: 1000, batch: 1, maxDelayMs: 1e9, backoff: { initialMs: 2000, maxMs: 16_000 } },
  });
  telemetry.start();
  telemetry.stop();
  await clock.advance(runMs);
  const writes = net
    .sent({ from: CLIENT_ADDRESS, type: MessageType.CON })
    .filter((d): d is SimDatagram & { message: NonNullable<SimDatagram["message"]> } => d.message !== undefined);
  const attempts: Attempt[] = [];
  for (const d of writes) {
    const last = attempts[attempts.length - 1];
    if (last !== undefined && last.messageId === d.message.messageId)
      attempts[attempts.length - 1] = { ...last, lastAt: d.sentAt };
    else
      attempts.push({
        messageId: d.message.messageId,
        token: tokenKey(d.message.token),
        firstAt: d.sentAt,
        lastAt: d.sentAt,
      });
  }
  const lifetimeMs = coap.parameters.exchangeLifetimeMs;
  telemetry.close();
  coap.close();
  return { attempts, lifetimeMs };
}

suite("telemetry: the resend window is the endpoint's", () => {
  test("default parameters: the same message until EXCHANGE_LIFETIME (247 s) after its first transmission, then a new one, re-sent as itself", async () => {
    const { attempts, lifetimeMs } = await lostWrites({}, 900_000);
    equal(lifetimeMs, 247_000);
    ok(attempts.length >= 2, `${attempts.length} messages`);
    const [first, second] = attempts as [Attempt, Attempt];
    equal(first.firstAt, 0);
    ok(first.lastAt < lifetimeMs, `the first message's last transmission at ${first.lastAt} ms is inside its lifetime`);
    ok(
      first.lastAt > 150_000,
      `…and telemetry kept re-sending it for most of that lifetime (last at ${first.lastAt} ms)`,
    );
    ok(second.firstAt >= lifetimeMs, `the next message goes out after the lifetime (${second.firstAt} ms)`);
    ok(second.messageId !== first.messageId && second.token !== first.token, "a new message: new message ID and token");
    ok(
      second.lastAt - second.firstAt > 62_000,
      "the new message is itself re-sent by later attempts (more than one exchange's retransmissions)",
    );
  });

  test("the window follows the endpoint's transmission parameters (a short MAX_LATENCY: a short lifetime)", async () => {
    const { attempts, lifetimeMs } = await lostWrites({ parameters: { maxLatencyMs: 5_000 } }, 300_000);
    equal(lifetimeMs, 45_000 + 10_000 + 2_000);
    ok(attempts.length >= 3, `${attempts.length} messages`);
    for (const attempt of attempts) {
      ok(
        attempt.lastAt - attempt.firstAt < lifetimeMs,
        `message ${attempt.messageId}: transmitted from ${attempt.firstAt} to ${attempt.lastAt} ms, inside ${lifetimeMs} ms`,
      );
    }
    ok(new Set(attempts.map((a) => a.messageId)).size === attempts.length, "each later message is a new one");
  });
});
