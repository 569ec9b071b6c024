// device.boot (device/app.ts): at every boot the firmware, why the board started and the outputs
// the platform can drive, written to the thing with the first batch.
import { Code, ContentFormat } from "../../coap/codes.js";
import { OptionNumber } from "../../coap/options.js";
import { Device } from "../../device/app.js";
import { parseDeviceConfig } from "../../device/config.js";
import { FIRMWARE_VERSION } from "../../device/firmware-version.js";
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { resetReasonName } from "../../device/reset-reason.js";
import { decodeUtf8 } from "../../kernel/utf8.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { CLIENT_ADDRESS, SERVER_ADDRESS } from "../sim/endpoint-fixture.js";
import { FakeClock } from "../sim/fake-clock.js";
import { SeededRandom } from "../sim/seeded-random.js";
import { SimCoapServer } from "../sim/sim-coap-server.js";
import { SimNetwork } from "../sim/sim-network.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";

async function bootAndCapture(resetReason: string | undefined, actuators: string): Promise<unknown[]> {
  const clock = new FakeClock();
  const net = new SimNetwork({ clock, random: new SeededRandom(7), conditions: { delayMs: 5 } });
  const server = new SimCoapServer({ network: net, address: SERVER_ADDRESS });
  const written: unknown[] = [];
  server.handle((request, reply) => {
    if (request.method === Code.POST) {
      const body = JSON.parse(decodeUtf8(request.payload)) as { values: { key: string; value: unknown }[] };
      for (const item of body.values) if (item.key === "device.boot") written.push(item.value);
      reply.respond({
        code: Code.Created,
        payload: '{"status":"created"}',
        options: [{ number: OptionNumber.ContentFormat, value: ContentFormat.Json }],
      });
      return;
    }
    reply.respond({ code: Code.NotFound, payload: '{"status":"error","message":"not here"}' });
  });
  const store = new MemoryStore();
  store.write(TOKEN_STORE_KEY, TOKEN);
  const device = new Device({
    config: parseDeviceConfig({ server: "coap://192.0.2.1:5683", sensors: "sim", actuators }),
    ports: {
      udp: net.bind(CLIENT_ADDRESS),
      clock,
      random: new SeededRandom(8),
      wallClock: { utcNow: () => Date.UTC(2026, 11, 1) },
      store,
      log: () => undefined,
      sensors: [{ sensor: { sample: () => ({ t: 1 }) }, readings: [{ path: "t", key: "t" }] }],
      actuators: [],
      resetReason,
    },
  });
  device.start();
  // The report rides with the first batch, due maxDelay (60 s by default) after boot.
  await clock.advance(61_000);
  device.close();
  return written;
}

suite("device: the boot report", () => {
  test("device.boot carries the firmware, the reset reason and the outputs as key:kind", async () => {
    const written = await bootAndCapture("brownout", "led:digital:2,fan:pwm:4");
    deepEqual(written, [{ firmware: FIRMWARE_VERSION, reset: "brownout", outputs: "led:digital,fan:pwm" }]);
  });

  test("a target that cannot say why it started reports unknown; no outputs is an empty list", async () => {
    const written = await bootAndCapture(undefined, "");
    deepEqual(written, [{ firmware: FIRMWARE_VERSION, reset: "unknown", outputs: "" }]);
  });

  test("the SDK's reset strings map to stable lower-case names", () => {
    equal(resetReasonName("Power-On"), "power-on");
    equal(resetReasonName("Interrupt WDT"), "interrupt-watchdog");
    equal(resetReasonName("Deep Sleep"), "deep-sleep");
    for (const other of ["Invalid", "Unknown", "", "toString", 3, undefined]) equal(resetReasonName(other), "unknown");
    ok(FIRMWARE_VERSION.length > 0);
  });
});
