// The device's command path, wired as device/app.ts wires it, over the simulated network: the
// real CoapEndpoint, ThethingsClient and its subscription, a CommandDispatcher and two
// SimulatedActuators ("led" digital, "dim" PWM), against a SimCoapServer playing the platform's
// subscription resource. Specs use it to send commands as the platform would, or to forge them,
// and to see what reached the dispatcher and the outputs. Portable.
import { Code, ContentFormat } from "../../coap/codes.js";
import { OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { type AppliedCommand, CommandDispatcher, type IgnoredCommand } from "../../device/commands.js";
import { SimulatedActuator } from "../../device/simulated-actuator.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import { ThethingsClient } from "../../thethings/client.js";
import type { ThingSubscription } from "../../thethings/subscription.js";
import { endpointFixture, type Fixture } from "./endpoint-fixture.js";
import type { SimObserver } from "./sim-coap-server.js";

export const THING_TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";
export const THING_PATH = `/v2/things/${THING_TOKEN}`;
const SUBSCRIBED = '{"status":"success","message":"subscribed"}';

export interface ThingCommandsRig {
  readonly f: Fixture;
  readonly client: ThethingsClient;
  readonly subscription: ThingSubscription;
  readonly dispatcher: CommandDispatcher;
  readonly led: SimulatedActuator;
  readonly dim: SimulatedActuator;
  readonly applied: AppliedCommand[];
  readonly ignored: IgnoredCommand[];
  /** Every log line of endpoint, client and dispatcher, "level: text". */
  readonly log: string[];
  /** The platform's current observer (the device's live registration), if any. */
  observer(): SimObserver | undefined;
  /**
   * The platform pushes `body` to its observers (the device's live registration), as it does for a
   * write to the thing.
   */
  push(body: string | Uint8Array, confirmable?: boolean): void;
}

/** Sets up the path and waits until the subscription is confirmed. */
export async function thingCommandsRig(seed: number = 1): Promise<ThingCommandsRig> {
  const f = endpointFixture({ seed });
  const log: string[] = [];
  const sink = (level: string, text: string): void => {
    log.push(`${level}: ${text}`);
  };
  let current: string | Uint8Array = SUBSCRIBED;
  let sequence = 0;
  f.server.route(THING_PATH, (request, reply) => {
    if (request.method !== Code.GET) {
      reply.respond({ code: Code.MethodNotAllowed });
      return;
    }
    const options = [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }];
    if (request.observe === 0 && (request.block2 === undefined || request.block2.num === 0)) {
      f.server.addObserver(request);
      reply.respond({
        code: Code.Content,
        payload: SUBSCRIBED,
        options: [...options, { number: OptionNumber.Observe, value: sequence }],
      });
      return;
    }
    if (request.observe === 1) f.server.removeObserver(request.from, request.message.token);
    // A plain GET (the rest of a block-wise notification): what was last pushed.
    reply.respond({ code: Code.Content, payload: current, options });
  });
  const client = new ThethingsClient({ coap: f.endpoint, log: sink, thingToken: THING_TOKEN });
  const led = new SimulatedActuator({ kind: "digital" });
  const dim = new SimulatedActuator({ kind: "pwm" });
  const applied: AppliedCommand[] = [];
  const ignored: IgnoredCommand[] = [];
  const dispatcher = new CommandDispatcher({
    actuators: [
      { key: "led", output: led },
      { key: "dim", output: dim },
    ],
    telemetryKeys: ["temperature"],
    log: sink,
    onApplied: (event) => applied.push(event),
    onIgnored: (event) => ignored.push(event),
  });
  let subscribed = false;
  const subscription = client.subscribe(
    { onValues: (values) => dispatcher.dispatch(values), onSubscribed: () => void (subscribed = true) },
    { keepAliveMs: 20_000 },
  );
  await f.clock.runUntil(() => subscribed, 10_000);
  const observer = (): SimObserver | undefined => {
    const all = f.server.observers(THING_PATH);
    return all[all.length - 1];
  };
  return {
    f,
    client,
    subscription,
    dispatcher,
    led,
    dim,
    applied,
    ignored,
    log,
    observer,
    push(body, confirmable = false) {
      if (observer() === undefined) throw new Error("rig: the device is not subscribed");
      current = body;
      sequence++;
      const payload = typeof body === "string" ? encodeUtf8(body) : body;
      f.server.notify(
        THING_PATH,
        { code: Code.Content, payload, options: [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }] },
        { confirmable, sequence },
      );
    },
  };
}

/** Another host: the server's IP on another port, or another IP on the server's port. */
export function foreignPeers(server: PeerAddress): PeerAddress[] {
  return [
    { address: server.address, port: server.port + 1 },
    { address: "198.51.100.7", port: server.port },
  ];
}
