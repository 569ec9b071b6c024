// A guest for the bridge's own test: after a 20 ms timer it sends "ping" to the port the host
// names, and reports what comes back and when.
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";
import { createBridgePorts } from "./bridge-guest.js";

const ports = createBridgePorts();
const target = ports.ask("target", []) as { address: string; port: number };
const startedAt = ports.clock.now();
ports.udp.onReceive((bytes, from) => {
  ports.emit({ kind: "reply", text: decodeUtf8(bytes), port: from.port, elapsed: ports.clock.now() - startedAt });
});
ports.clock.setTimer(() => {
  ports.log("info", "sending ping");
  ports.udp.send(encodeUtf8("ping"), target);
}, 20);
ports.expose("double", (n) => (n as number) * 2);
