// The BatchSink over the theThings.IO client (sensors/thethings-batch-sink.ts), and telemetry
// end to end over the client and a scripted CoAP client: what goes on the wire is the body
// telemetry sized, and an unanswered write is re-sent as the same message.
import { CoapRequestError } from "../../coap/client-api.js";
import { utf8Length } from "../../kernel/utf8.js";
import { encodeBatchPayload } from "../../sensors/batch-payload.js";
import type { BatchValue } from "../../sensors/batch-sink.js";
import { Telemetry } from "../../sensors/telemetry.js";
import { ThethingsBatchSink } from "../../sensors/thethings-batch-sink.js";
import { ThethingsClient } from "../../thethings/client.js";
import { FakeCoapClient, reply } from "../core-fakes/fake-coap-client.js";
import { ScriptedSensor, SettableWallClock } from "../core-fakes/telemetry-fakes.js";
import { SOME_UTC } from "../core-fakes/telemetry-rig.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom, SeededRandom } from "../sim/seeded-random.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";
const VALUES: readonly BatchValue[] = [
  { key: "temperature", value: 21.53, datetime: SOME_UTC },
  { key: "telemetry.dropped", value: 3 },
];

function setup(withToken = true) {
  const coap = new FakeCoapClient();
  const client = new ThethingsClient(
    withToken ? { coap, log: () => undefined, thingToken: TOKEN } : { coap, log: () => undefined },
  );
  return { coap, sink: new ThethingsBatchSink({ client }) };
}

suite("telemetry: theThings.IO sink", () => {
  test("2.01 is stored; the request is a JSON POST of exactly the body telemetry sized", async () => {
    const { coap, sink } = setup();
    coap.script(reply("2.01", { status: "created" }));
    deepEqual(await sink.send(VALUES), { kind: "stored" });
    const request = coap.requests[0]!;
    equal(request.method, "POST");
    equal(request.path, `/v2/things/${TOKEN}`);
    equal(request.contentFormat, 50);
    equal(request.payload, encodeBatchPayload(VALUES));
  });

  test("the client's body equals telemetry's for any values, so the 1024-byte sizing holds on the wire", async () => {
    const { coap, sink } = setup();
    coap.fallback = reply("2.01");
    const random = new SeededRandom(21);
    for (let round = 0; round < 60; round++) {
      const values: BatchValue[] = [];
      for (let i = 1 + random.int(20); i > 0; i--) {
        const value = (random.next() - 0.5) * 10 ** (random.int(30) - 15);
        values.push(
          random.chance(0.5)
            ? { key: `k.${random.int(1000)}`, value }
            : { key: "t-x_y", value, datetime: SOME_UTC + random.int(1e9) * 1000 },
        );
      }
      await sink.send(values);
      const sent = coap.requests[round]!.payload as string;
      equal(sent, encodeBatchPayload(values), `round ${round}`);
      equal(utf8Length(sent), utf8Length(encodeBatchPayload(values)));
    }
  });

  test("a timeout gives a retry handle; passing it back re-sends the same message", async () => {
    const { coap, sink } = setup();
    coap.script(coap.timeoutStep(1000), reply("2.01"));
    const first = await sink.send(VALUES);
    equal(first.kind, "unanswered");
    const retry = first.kind === "unanswered" ? first.retry : undefined;
    ok(retry !== undefined);
    deepEqual(await sink.send(VALUES, retry), { kind: "stored" });
    equal(coap.requests.length, 1);
    equal(coap.resends.length, 1);
    equal(coap.resends[0], retry);
  });

  test("errors map to keep-and-retry, give-up, or not-sent", async () => {
    const cases: [unknown, unknown][] = [
      [reply("4.29"), { kind: "refused", permanent: false, code: "4.29" }],
      [reply("5.03"), { kind: "refused", permanent: false, code: "5.03" }],
      [reply("4.01"), { kind: "refused", permanent: false, code: "4.01" }],
      [reply("4.00", { status: "error", message: "bad" }), { kind: "refused", permanent: true, code: "4.00" }],
      [reply("4.13"), { kind: "refused", permanent: true, code: "4.13" }],
      [new CoapRequestError("reset", "RST"), { kind: "refused", permanent: false, code: "RST" }],
      [new CoapRequestError("queue-full", "full"), { kind: "unavailable" }],
      [new CoapRequestError("expired", "too late"), { kind: "unanswered" }],
      [new CoapRequestError("timeout", "no ACK"), { kind: "unanswered" }],
      [new Error("socket closed"), { kind: "unavailable" }],
    ];
    for (const [answer, expected] of cases) {
      const { coap, sink } = setup();
      coap.script(answer as never);
      const outcome = (await sink.send(VALUES)) as unknown as Record<string, unknown>;
      const picked: Record<string, unknown> = {};
      for (const key of Object.keys(expected as object)) picked[key] = outcome[key];
      deepEqual(picked, expected, String(answer instanceof Error ? answer.message : (answer as { code: number }).code));
      if (outcome.kind === "unanswered") equal(outcome.retry, undefined, "no handle: the next attempt is a new write");
    }
  });

  test("without a thing token nothing is sent: unavailable", async () => {
    const { coap, sink } = setup(false);
    equal((await sink.send(VALUES)).kind, "unavailable");
    equal(coap.requests.length, 0);
  });
});

suite("telemetry: end to end over the client", () => {
  test("a lost answer is re-sent as the same message; the values are stored once and released", async () => {
    const clock = new FakeClock({ startAt: 5000 });
    const coap = new FakeCoapClient();
    const client = new ThethingsClient({ coap, log: () => undefined, thingToken: TOKEN });
    const sensor = new ScriptedSensor((n) => ({ thermometer: { temperature: 20 + n }, hygrometer: { humidity: 0.4 } }));
    const telemetry = new Telemetry({
      bindings: [
        {
          sensor,
          readings: [
            { path: "thermometer.temperature", key: "temperature" },
            { path: "hygrometer.humidity", key: "humidity", scale: 100 },
          ],
        },
      ],
      sink: new ThethingsBatchSink({ client }),
      clock,
      wallClock: new SettableWallClock(SOME_UTC),
      random: new ConstantRandom(0),
      config: { intervalMs: 1000, batch: 4, maxDelayMs: 60_000 },
    });
    coap.script(coap.timeoutStep(clock.now()), reply("2.01", { status: "Success", message: "Created" }));
    telemetry.start();
    await clock.advance(1000);
    telemetry.stop();
    equal(coap.requests.length, 1);
    equal(telemetry.counters.writeFailures, 1);
    await clock.advance(2000);
    equal(coap.resends.length, 1, "the retry is a resend");
    equal(coap.requests.length, 1, "no new message for it");
    equal(telemetry.counters.sent, 4);
    equal(telemetry.counters.batchesSent, 1);
    equal(
      coap.requests[0]!.payload,
      '{"values":[{"key":"temperature","value":20,"datetime":"20240506070809"},{"key":"humidity","value":40,"datetime":"20240506070809"},' +
        '{"key":"temperature","value":21,"datetime":"20240506070809"},{"key":"humidity","value":40,"datetime":"20240506070809"}]}',
    );
    telemetry.close();
  });
});
