// First boot through a very lossy link: an activation whose reply is lost must not strand the
// device (the platform has used the code by then and refuses a new activation message).
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChaosProxy } from "../chaos/chaos-proxy.js";
import { DeviceUnderTest, RestartablePlatform, waitFor } from "../e2e/harness.js";

test("at 60 % loss each way every first boot activates (the unanswered activation is re-sent as the same message)", async () => {
  const seeds = [4, 6, 7, 8];
  for (const seed of seeds) {
    const code = `LOSSYACTIVATION${String(seed).padStart(19, "0")}`;
    const platform = new RestartablePlatform([code]);
    await platform.start();
    const proxy = new ChaosProxy({
      target: { address: "127.0.0.1", port: platform.port },
      seed,
      toServer: { loss: 0.6 },
      toDevice: { loss: 0.6 },
    });
    const port = await proxy.start();
    const device = new DeviceUnderTest();
    try {
      await device.start(
        { server: `coap://127.0.0.1:${port}`, activationCode: code, interval: "1s", keepAlive: "5s" },
        { endpoint: { parameters: { ackTimeoutMs: 50 } } },
      );
      await waitFor(`activation through loss, seed ${seed}`, () => device.count("activated") > 0, 30_000);
      assert.equal(platform.count("activated"), 1, `seed ${seed}: one thing created`);
    } finally {
      device.dispose();
      await proxy.stop();
      await platform.dispose();
    }
  }
});
