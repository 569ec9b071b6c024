import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { startXsGuest } from "../../tools/xs-bridge.js";

test("a guest on XS sends and receives real UDP through the bridge, with host-driven timers", async () => {
  const echo = createSocket("udp4");
  echo.on("message", (bytes, from) => echo.send(Buffer.concat([bytes, Buffer.from("-pong")]), from.port, from.address));
  await new Promise<void>((resolve) => echo.bind(0, "127.0.0.1", resolve));
  const events: Record<string, unknown>[] = [];
  const logs: string[] = [];
  const guest = await startXsGuest({
    entry: fileURLToPath(new URL("../xs/echo-guest.js", import.meta.url)),
    answers: { target: () => ({ address: "127.0.0.1", port: echo.address().port }) },
    onEvent: (event) => events.push(event),
    onLog: (_level, message) => logs.push(message),
  });
  try {
    const deadline = Date.now() + 5000;
    while (events.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(guest.failure, undefined);
    assert.equal(events.length, 1);
    assert.equal(events[0]!.text, "ping-pong");
    assert.equal(events[0]!.port, echo.address().port);
    assert.ok((events[0]!.elapsed as number) >= 20, "the reply came after the guest's 20 ms timer");
    assert.deepEqual(logs, ["sending ping"]);
    assert.equal(await guest.call("double", 21), 42);
  } finally {
    await guest.stop();
    echo.close();
  }
});
