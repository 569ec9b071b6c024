// The subscription: how it registers (path, keepAlive query, livenessMs for the endpoint), and
// what it does with each kind of message on the stream, malformed ones included.

import { CoapRequestError } from "../../coap/client-api.js";
import { MessageType } from "../../coap/codes.js";
import { ThethingsClient } from "../../thethings/client.js";
import type { ThethingsError } from "../../thethings/errors.js";
import { classifyNotification, DEFAULT_GRACE_MS, DEFAULT_KEEP_ALIVE_MS } from "../../thethings/subscription.js";
import type { ThingValue } from "../../thethings/values.js";
import { FakeCoapClient, reply } from "../core-fakes/fake-coap-client.js";
import { RecordingLog } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";

function setup() {
  const coap = new FakeCoapClient();
  const log = new RecordingLog();
  const client = new ThethingsClient({ coap, log: log.sink, thingToken: TOKEN });
  const received: ThingValue[][] = [];
  const errors: ThethingsError[] = [];
  const events: string[] = [];
  const subscription = client.subscribe(
    {
      onValues: (values) => received.push([...values]),
      onSubscribed: () => events.push("subscribed"),
      onError: (error) => errors.push(error),
      onLost: (reason) => events.push(`lost:${reason}`),
      onReestablished: () => events.push("reestablished"),
    },
    { keepAliveMs: 20_000, graceMs: 2_000 },
  );
  const observation = coap.observations[0]!;
  return { coap, log, client, subscription, observation, received, errors, events };
}

suite("thethings subscription", () => {
  test("observes GET /v2/things/{TOKEN} with keepAlive as Uri-Query and livenessMs = keepAlive + grace", () => {
    const { coap, observation, subscription } = setup();
    equal(coap.observations.length, 1);
    equal(observation.request.method, "GET");
    equal(observation.request.path, `/v2/things/${TOKEN}`);
    deepEqual(observation.request.query, { keepAlive: 20_000 });
    deepEqual(observation.observeOptions, { livenessMs: 22_000, deliverReordered: true });
    equal(subscription.livenessMs, 22_000);
    equal(coap.requests.length, 0, "no plain request");
  });

  test("defaults: keepAlive 30 s, grace 5 s", () => {
    const coap = new FakeCoapClient();
    const client = new ThethingsClient({ coap, log: () => undefined, thingToken: TOKEN });
    client.subscribe({ onValues: () => undefined });
    deepEqual(coap.observations[0]!.request.query, { keepAlive: DEFAULT_KEEP_ALIVE_MS });
    deepEqual(coap.observations[0]!.observeOptions, {
      livenessMs: DEFAULT_KEEP_ALIVE_MS + DEFAULT_GRACE_MS,
      deliverReordered: true,
    });
  });

  test('"subscribed" calls onSubscribed; {} counts as a keep-alive and calls nothing', () => {
    const { observation, subscription, received, events, errors } = setup();
    observation.notify(reply("2.05", { status: "success", message: "subscribed" }));
    observation.notify(reply("2.05", {}, MessageType.CON));
    observation.notify(reply("2.05", {}, MessageType.NON));
    deepEqual(events, ["subscribed"]);
    equal(received.length, 0);
    equal(errors.length, 0);
    const stats = subscription.stats;
    equal(stats.subscribed, 1);
    equal(stats.keepAlives, 2);
    equal(stats.dropped, 0);
  });

  test("a data array is delivered as normalised values", () => {
    const { observation, subscription, received } = setup();
    observation.notify(
      reply("2.05", [
        { key: "led", value: "on", datetime: "2015-01-30T15:35:33.000Z" },
        { key: "temperature", value: 21.5, datetime: "20150130153533" },
        { key: "fan", value: 40 },
      ]),
    );
    deepEqual(received, [
      [
        { key: "led", value: "on", datetime: Date.UTC(2015, 0, 30, 15, 35, 33) },
        { key: "temperature", value: 21.5, datetime: Date.UTC(2015, 0, 30, 15, 35, 33) },
        { key: "fan", value: 40, datetime: undefined },
      ],
    ]);
    equal(subscription.stats.dataMessages, 1);
    equal(subscription.stats.values, 3);
  });

  test("malformed items are dropped and counted, the good ones delivered", () => {
    const { observation, subscription, received, log } = setup();
    observation.notify(reply("2.05", [{ key: "led", value: 1 }, { key: "bad key", value: 1 }, { value: 2 }, 7]));
    deepEqual(
      received.map((values) => values.map((v) => v.key)),
      [["led"]],
    );
    equal(subscription.stats.dropped, 3);
    equal(log.matching("dropped 3 malformed").length, 1);
  });

  test("an error message calls onError and is counted", () => {
    const { observation, subscription, errors } = setup();
    observation.notify(reply("2.05", { status: "error", message: "something broke" }));
    equal(errors.length, 1);
    equal(errors[0]!.operation, "subscribe");
    ok(errors[0]!.message.includes("something broke"));
    equal(subscription.stats.errors, 1);
  });

  test("an error response code (refused token) is reported as unauthorized", () => {
    const { observation, errors } = setup();
    observation.notify(reply("4.01", { status: "error", message: "invalid thing token" }));
    observation.notify(reply("4.04"));
    deepEqual(
      errors.map((e) => [e.kind, e.code]),
      [
        ["unauthorized", "4.01"],
        ["unauthorized", "4.04"],
      ],
    );
    equal(errors[0]!.platformMessage, "invalid thing token");
  });

  test("garbage is dropped with a log line and counted, never thrown", () => {
    const { observation, subscription, received, errors, events, log } = setup();
    const garbage = [
      "not json",
      "[1,",
      "null",
      "42",
      '"text"',
      '{"what":"ever"}',
      `${"[".repeat(3000)}${"]".repeat(3000)}`,
      JSON.stringify({ pad: "x".repeat(20_000) }),
      new Uint8Array([0xff, 0xfe, 0x00]),
    ];
    for (const body of garbage) observation.notify(reply("2.05", body));
    equal(subscription.stats.dropped, garbage.length);
    equal(received.length, 0);
    equal(errors.length, 0);
    deepEqual(events, []);
    equal(log.matching("dropped a notification").length, garbage.length);
  });

  test("a single value item outside an array is taken as one value", () => {
    const { observation, received } = setup();
    observation.notify(reply("2.05", { key: "led", value: 0 }));
    deepEqual(received, [[{ key: "led", value: 0, datetime: undefined }]]);
  });

  test("a handler that throws is logged and does not break the stream", () => {
    const coap = new FakeCoapClient();
    const log = new RecordingLog();
    const client = new ThethingsClient({ coap, log: log.sink, thingToken: TOKEN });
    let calls = 0;
    client.subscribe({
      onValues: () => {
        calls++;
        throw new Error("handler bug");
      },
    });
    const observation = coap.observations[0]!;
    observation.notify(reply("2.05", [{ key: "a", value: 1 }]));
    observation.notify(reply("2.05", [{ key: "a", value: 2 }]));
    equal(calls, 2);
    equal(log.matching("handler bug").length, 2);
  });

  test("onLost and onReestablished are passed through; the logged reason never carries the token", () => {
    const { observation, events, log } = setup();
    observation.handlers.onLost?.("silence");
    observation.handlers.onLost?.(`RST for GET /v2/things/${TOKEN}`);
    observation.handlers.onReestablished?.();
    deepEqual(events, ["lost:silence", "lost:RST for GET /v2/things/AbCd… (43 chars)", "reestablished"]);
    equal(log.matching("subscription lost").length, 2);
    ok(!log.text.includes(TOKEN), log.text);
  });

  test("close() cancels the observation once; later notifications are ignored", async () => {
    const { observation, subscription, received, client } = setup();
    await subscription.close();
    await subscription.close();
    await client.close();
    equal(observation.cancelled, true);
    equal(subscription.active, false);
    observation.notify(reply("2.05", [{ key: "a", value: 1 }]));
    equal(received.length, 0);
  });

  test("client.close() closes open subscriptions", async () => {
    const { observation, client } = setup();
    await client.close();
    equal(observation.cancelled, true);
  });

  test("reregister() asks the endpoint to register again", () => {
    const { observation, subscription } = setup();
    subscription.reregister();
    equal(observation.reregistrations, 1);
  });

  test("no token: subscribe throws no-token; an endpoint that refuses at once: network", () => {
    const coap = new FakeCoapClient();
    const client = new ThethingsClient({ coap, log: () => undefined });
    throws(
      () => client.subscribe({ onValues: () => undefined }),
      (e) => (e as ThethingsError).kind === "no-token",
    );
    coap.observe = () => {
      throw new CoapRequestError("queue-full", "full");
    };
    client.setThingToken(TOKEN);
    throws(
      () => client.subscribe({ onValues: () => undefined }),
      (e) => (e as ThethingsError).kind === "network",
    );
  });

  test("keepAlive and grace must be positive whole ms", () => {
    const coap = new FakeCoapClient();
    const client = new ThethingsClient({ coap, log: () => undefined, thingToken: TOKEN });
    throws(
      () => client.subscribe({ onValues: () => undefined }, { keepAliveMs: 0 }),
      (e) => e instanceof RangeError,
    );
    throws(
      () => client.subscribe({ onValues: () => undefined }, { graceMs: -1 }),
      (e) => e instanceof RangeError,
    );
  });

  test("classifyNotification: an empty success body proves liveness; other statuses are informational", () => {
    equal(classifyNotification(reply("2.05")).kind, "keep-alive");
    deepEqual(classifyNotification(reply("2.05", { status: "success", message: "hello" })), {
      kind: "status",
      status: "success",
      message: "hello",
    });
    equal(classifyNotification(reply("2.05", { status: "Success", message: "Subscribed" })).kind, "subscribed");
  });
});
