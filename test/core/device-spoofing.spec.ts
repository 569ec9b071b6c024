// Forged commands at the device level: the real endpoint, ThethingsClient subscription,
// CommandDispatcher and simulated actuators over the simulated network (test/sim/
// thing-commands-rig.ts). A command is a notification on the device's live subscription token
// from the platform's address and port; a forgery with an unknown or retired token gets a RST
// (RFC 7641 §3.6) and one from another address is dropped, and neither reaches the dispatcher
// (no applied or ignored event) or an output. Plain CoAP cannot refuse a forgery that carries
// the live token from the platform's address: that needs DTLS, which the platform lacks.
import { Code, ContentFormat, MessageType } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { OptionNumber } from "../../coap/options.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import { encodeUtf8 } from "../../kernel/utf8.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, SERVER_ADDRESS } from "../sim/endpoint-fixture.js";
import { foreignPeers, type ThingCommandsRig, thingCommandsRig } from "../sim/thing-commands-rig.js";

const LED_ON = '[{"key":"led","value":1}]';

function tokenBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** A command notification with `token`, sent to the device from `from`. */
function forgeCommand(
  rig: ThingCommandsRig,
  from: PeerAddress,
  token: Uint8Array,
  messageId: number,
  type: MessageType = MessageType.NON,
  observe: number | undefined = 1000,
): void {
  const options = [
    ...(observe === undefined ? [] : [{ number: OptionNumber.Observe, value: observe }]),
    { number: OptionNumber.ContentFormat, value: ContentFormat.Json },
  ];
  const bytes = encodeMessage({ type, code: Code.Content, messageId, token, options, payload: encodeUtf8(LED_ON) });
  if (from === SERVER_ADDRESS) rig.f.server.sendRaw(bytes, CLIENT_ADDRESS);
  else rig.f.net.transmit(from, CLIENT_ADDRESS, bytes);
}

/** Nothing reached the dispatcher or an output. */
function untouched(rig: ThingCommandsRig): void {
  equal(rig.led.writes + rig.dim.writes, 0, "no output written");
  equal(rig.applied.length, 0, "no command applied");
  equal(rig.ignored.length, 0, "the dispatcher saw nothing");
  equal(rig.subscription.stats.dataMessages, 0, "the subscription saw no data message");
}

function resetsFor(rig: ThingCommandsRig, messageId: number): number {
  return rig.f.net.sent({ from: CLIENT_ADDRESS, to: SERVER_ADDRESS, type: MessageType.RST, messageId }).length;
}

suite("device spoofing: forged commands", () => {
  test("the platform's own push reaches the output (the path is live)", async () => {
    const rig = await thingCommandsRig();
    rig.push(LED_ON);
    await rig.f.clock.advance(50);
    equal(rig.led.level, 1);
    equal(rig.applied.length, 1);
  });

  test("an unknown token from the platform's address, CON or NON, with or without Observe: RST, nothing dispatched", async () => {
    const rig = await thingCommandsRig();
    const unknown = tokenBytes("0102030405060708");
    forgeCommand(rig, SERVER_ADDRESS, unknown, 0x5001, MessageType.CON);
    forgeCommand(rig, SERVER_ADDRESS, unknown, 0x5002, MessageType.NON);
    forgeCommand(rig, SERVER_ADDRESS, unknown, 0x5003, MessageType.CON, undefined);
    await rig.f.clock.advance(50);
    untouched(rig);
    ok(
      resetsFor(rig, 0x5001) === 1 && resetsFor(rig, 0x5002) === 1 && resetsFor(rig, 0x5003) === 1,
      "each forgery was reset",
    );
    equal(rig.f.endpoint.stats.droppedUnmatched, 3);
    rig.push(LED_ON);
    await rig.f.clock.advance(50);
    equal(rig.led.writes, 1, "the real subscription still works");
  });

  test("the live token from another port or another host: dropped as foreign, never answered, nothing dispatched", async () => {
    const rig = await thingCommandsRig();
    const live = tokenBytes(rig.observer()!.request.tokenKey);
    let id = 0x5100;
    for (const from of foreignPeers(SERVER_ADDRESS)) {
      forgeCommand(rig, from, live, id++, MessageType.CON);
      forgeCommand(rig, from, live, id++, MessageType.NON);
    }
    await rig.f.clock.advance(50);
    untouched(rig);
    equal(rig.f.endpoint.stats.droppedForeign, 4);
    for (const to of foreignPeers(SERVER_ADDRESS))
      equal(rig.f.net.sent({ from: CLIENT_ADDRESS, to }).length, 0, "no reply to a foreign peer");
  });

  test("the live token in an ACK (no request pending with that ID): dropped, nothing dispatched", async () => {
    const rig = await thingCommandsRig();
    const live = tokenBytes(rig.observer()!.request.tokenKey);
    rig.f.server.sendRaw(
      encodeMessage({
        type: MessageType.ACK,
        code: Code.Content,
        messageId: 0x5200,
        token: live,
        options: [{ number: OptionNumber.Observe, value: 5000 }],
        payload: encodeUtf8(LED_ON),
      }),
      CLIENT_ADDRESS,
    );
    await rig.f.clock.advance(50);
    untouched(rig);
    equal(rig.f.endpoint.stats.droppedUnmatched, 1);
  });

  test("after the subscription is closed, the old token: RST, nothing dispatched", async () => {
    const rig = await thingCommandsRig();
    const old = tokenBytes(rig.observer()!.request.tokenKey);
    const closing = rig.subscription.close();
    await rig.f.clock.advance(100);
    await closing;
    equal(rig.observer(), undefined, "the platform forgot the observer (RFC 7641 §3.6 deregistration)");
    forgeCommand(rig, SERVER_ADDRESS, old, 0x5300, MessageType.CON);
    forgeCommand(rig, SERVER_ADDRESS, old, 0x5301, MessageType.NON);
    await rig.f.clock.advance(50);
    untouched(rig);
    equal(resetsFor(rig, 0x5300) + resetsFor(rig, 0x5301), 2);
  });

  test("after a re-registration, the retired token: RST, nothing dispatched; the new token works", async () => {
    const rig = await thingCommandsRig();
    const oldKey = rig.observer()!.request.tokenKey;
    const old = tokenBytes(oldKey);
    rig.subscription.reregister();
    await rig.f.clock.advance(100);
    ok(rig.observer()!.request.tokenKey !== oldKey, "registered again with a fresh token");
    forgeCommand(rig, SERVER_ADDRESS, old, 0x5400, MessageType.NON, 0xffffff);
    await rig.f.clock.advance(50);
    untouched(rig);
    equal(resetsFor(rig, 0x5400), 1);
    rig.push(LED_ON);
    await rig.f.clock.advance(50);
    equal(rig.led.writes, 1, "the platform's push on the new token applies");
  });
});
