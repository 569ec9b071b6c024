// The setup form and what it keeps: each field checked by the configuration's own parser (the
// same words as on the mcconfig line), entries laid over the build's values and checked again
// when read, the page escaping everything that comes from outside.
import { parseDeviceConfig } from "../../device/config.js";
import { parseSsid, parseWifiPassword } from "../../device/config-values.js";
import { checkSetupForm } from "../../device/setup-form.js";
import { escapeHtml, renderPage, renderStatus, type SetupStatus } from "../../device/setup-page.js";
import { forgetEntered, readEntered, withEntered, writeEntered } from "../../device/setup-store.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok, throws } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

const BOARD = { wifi: true, codeRequired: true, currentSsid: undefined };

function form(fields: Record<string, string>): Map<string, string> {
  return new Map(Object.entries(fields));
}

suite("setup form", () => {
  test("valid fields come back as entered settings; the server in its normalized form", () => {
    const check = checkSetupForm(
      form({
        ssid: "Café ✓",
        password: "pässword",
        activationCode: " code-1 ",
        productId: "",
        server: "coap://EXAMPLE.com",
      }),
      BOARD,
    );
    ok(!check.ok, "a non-ASCII WPA2 passphrase is refused");
    const good = checkSetupForm(
      form({ ssid: "Café ✓", password: "password1", activationCode: " code-1 ", server: "coap://EXAMPLE.com" }),
      BOARD,
    );
    ok(good.ok);
    deepEqual(good.values, {
      activationCode: "code-1",
      server: "coap://example.com:5683",
      ssid: "Café ✓",
      password: "password1",
    });
  });

  test("every field's problem is reported at once, in the configuration's words", () => {
    const check = checkSetupForm(
      form({ ssid: "x".repeat(33), password: "short", activationCode: "a b", productId: "é", server: "coaps://h" }),
      BOARD,
    );
    ok(!check.ok);
    equal(check.errors.ssid, "the network name is 33 bytes, at most 32");
    equal(check.errors.password, "5 characters, WPA2 needs at least 8");
    ok((check.errors.activationCode ?? "").includes("a space, control or non-ASCII character"));
    ok((check.errors.productId ?? "").includes("non-ASCII"));
    ok((check.errors.server ?? "").includes("coaps (DTLS) is not supported"));
  });

  test("empty fields keep what the device has; a code is needed only without a token", () => {
    const keep = checkSetupForm(form({}), { wifi: true, codeRequired: false, currentSsid: "Home" });
    ok(keep.ok);
    deepEqual(keep.values, {});
    const needed = checkSetupForm(form({ ssid: "Home" }), BOARD);
    ok(!needed.ok && needed.errors.activationCode !== undefined);
    const noNetwork = checkSetupForm(form({ activationCode: "c" }), BOARD);
    ok(!noNetwork.ok && noNetwork.errors.ssid === "choose or type the network to join");
    const open = checkSetupForm(form({ ssid: "Cafe", activationCode: "c" }), BOARD);
    ok(open.ok);
    equal(open.values.password, "", "a new open network: no password");
    const pc = checkSetupForm(form({ ssid: "ignored", activationCode: "c" }), { ...BOARD, wifi: false });
    ok(pc.ok);
    equal(pc.values.ssid, undefined, "no Wi-Fi part on the PC");
  });

  test("the Wi-Fi parsers: 64 hex digits pass, 64 other characters do not; SSIDs count bytes", () => {
    equal(parseWifiPassword("password", "a".repeat(63)), "a".repeat(63));
    equal(parseWifiPassword("password", "0123456789abcdef".repeat(4)), "0123456789abcdef".repeat(4));
    throws(() => parseWifiPassword("password", "g".repeat(64)));
    equal(parseWifiPassword("password", ""), undefined);
    equal(parseSsid("ssid", "ñ".repeat(16)), "ñ".repeat(16));
    throws(() => parseSsid("ssid", "ñ".repeat(17)));
    throws(() => parseSsid("ssid", "tab\there"));
  });
});

suite("setup store", () => {
  test("entries win over the build's values; a damaged entry is removed with a log line", () => {
    const store = new MemoryStore();
    const logs: string[] = [];
    const log = (level: string, message: string): void => {
      logs.push(`${level}: ${message}`);
    };
    equal(writeEntered(store, { server: "coap://192.0.2.9:5683", activationCode: "entered-1" }, log), 2);
    equal(writeEntered(store, { server: "coap://192.0.2.9:5683", activationCode: "entered-1" }, log), 0, "unchanged");
    store.write("productId", "has space");
    const entered = readEntered(store, log);
    deepEqual(entered, { activationCode: "entered-1", server: "coap://192.0.2.9:5683" });
    ok(
      logs.some((line) => line.startsWith("warn: setup: the entered productId is unusable")),
      logs.join("\n"),
    );
    equal(store.data.get("productId"), undefined, "removed");
    const config = parseDeviceConfig(
      withEntered({ server: "coap://198.51.100.1", activationCode: "built-in" }, entered),
    );
    equal(config.server.uri, "coap://192.0.2.9:5683");
    equal(config.activationCode, "entered-1");
    equal(writeEntered(store, { server: "" }, log), 1, "an empty value removes the entry");
    forgetEntered(store, log);
    equal(store.data.size, 0);
  });
});

suite("setup page", () => {
  const status: SetupStatus = {
    phase: "failed",
    reason: "The platform refused the activation code.",
    steps: [{ step: "activate", state: "failed" }],
    message: "The activation code was refused: check it and try again.",
    error: '<script>alert("x")</script> & more',
    token: undefined,
    server: "coap://h:5683",
    ssid: undefined,
    networks: [{ ssid: "a\"b'<c>", rssi: -50, secure: true }],
  };

  test("everything from outside is escaped; the page is small and has no external resource", () => {
    equal(escapeHtml(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    const html = renderPage({
      status,
      wifi: true,
      values: { activationCode: '"><b>' },
      errors: {},
      codeOptional: false,
    });
    ok(!html.includes("<script>alert"), "the platform's message is escaped");
    ok(html.includes("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more"));
    ok(html.includes('value="&quot;&gt;&lt;b&gt;"'), "an echoed value cannot close its attribute");
    ok(html.includes('value="a&quot;b&#39;&lt;c&gt;"'), "a network name is escaped");
    ok(!html.includes("http://") && !html.includes("https://"), "no external resource");
    ok(html.length < 8_000, `${html.length} characters`);
    const json = JSON.parse(renderStatus(status)) as { error: string; token: null };
    equal(json.error, status.error);
    equal(json.token, null);
  });
});
