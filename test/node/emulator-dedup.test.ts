// A write retransmitted across a platform restart (same sender, message ID and token) is stored
// once: node-coap's duplicate cache lives in memory, the platform's record of recent writes in
// its database (RFC 7252 §4.5).
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { test } from "node:test";
import { generate, parse } from "coap-packet";
import { RestartablePlatform } from "../e2e/harness.js";

const CODE = "DEDUPACTIVATIONCODE000000000000001";

function exchange(
  socket: ReturnType<typeof createSocket>,
  port: number,
  bytes: Buffer,
): Promise<ReturnType<typeof parse>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no reply")), 3000);
    socket.once("message", (reply) => {
      clearTimeout(timer);
      resolve(parse(reply));
    });
    socket.send(bytes, port, "127.0.0.1");
  });
}

test("a write sent again with the same message ID and token after a restart is answered 2.01 and not stored twice", async () => {
  const platform = new RestartablePlatform([CODE]);
  await platform.start();
  const socket = createSocket("udp4");
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  try {
    const activation = await exchange(
      socket,
      platform.port,
      generate({
        confirmable: true,
        messageId: 100,
        token: Buffer.from("a1a1a1a1", "hex"),
        code: "0.02",
        options: [
          { name: "Uri-Path", value: Buffer.from("v2") },
          { name: "Uri-Path", value: Buffer.from("things") },
        ],
        payload: Buffer.from(JSON.stringify({ activationCode: CODE })),
      }),
    );
    const token = (JSON.parse(activation.payload.toString()) as { thingToken: string }).thingToken;
    const write = generate({
      confirmable: true,
      messageId: 101,
      token: Buffer.from("b2b2b2b2", "hex"),
      code: "0.02",
      options: [
        { name: "Uri-Path", value: Buffer.from("v2") },
        { name: "Uri-Path", value: Buffer.from("things") },
        { name: "Uri-Path", value: Buffer.from(token) },
      ],
      payload: Buffer.from(JSON.stringify({ values: [{ key: "fun", value: 9000 }] })),
    });
    const first = await exchange(socket, platform.port, write);
    assert.equal(first.code, "2.01");
    await platform.stop();
    await platform.start();
    const again = await exchange(socket, platform.port, write);
    assert.equal(again.code, "2.01", "the retransmission gets the same answer");
    assert.equal(platform.storedValues().length, 1, "and is not stored again");
    assert.equal(platform.count("duplicate"), 1);
    const other = await exchange(socket, platform.port, generate({ ...parse(write), messageId: 102 }));
    assert.equal(other.code, "2.01");
    assert.equal(platform.storedValues().length, 2, "a new message with the same body is a new write");
  } finally {
    socket.close();
    await platform.dispose();
  }
});
