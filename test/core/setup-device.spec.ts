// The setup portal in the device: every trigger (first boot without a code, a refused code, a
// refused token, on demand, setup=always, no Wi-Fi, Wi-Fi out of reach for setupAfter), each
// submission's steps, "Forget this device", and the rule that a device is never stranded in
// setup: the background rejoin closes a portal opened because Wi-Fi was away.
import { TOKEN_STORE_KEY } from "../../device/provisioning.js";
import {
  activatedStore,
  FakeRadio,
  GOOD_CODE,
  get,
  post,
  type Rig,
  setupRig,
  status,
  TOKENS,
} from "../core-fakes/setup-rig.js";
import { MemoryStore } from "../core-fakes/thethings-fakes.js";
import { deepEqual, equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

function setupUrls(rig: Rig): string[] {
  return rig.events.flatMap((event) => (event.event === "setup" ? [event.url] : []));
}

function closedCount(rig: Rig): number {
  return rig.events.filter((event) => event.event === "setup-closed").length;
}

suite("setup: first boot by a person", () => {
  test("no token and no code: the page opens; a malformed code is a field error, a wrong one the platform's message, the right one activates", async () => {
    const rig = setupRig();
    rig.device.start();
    await rig.clock.advance(100);
    deepEqual(setupUrls(rig), ["http://127.0.0.1:8080/"]);
    ok(rig.device.setupOpen);
    const page = await get(rig, "/");
    equal(page.status, 200);
    equal(page.header("content-type"), "text/html; charset=utf-8");
    ok(page.body.includes('<label for="activationCode">Activation code</label>'), "labels tied to fields");
    ok(!page.body.includes('name="ssid"'), "no Wi-Fi part without a radio");

    const malformed = await post(rig, "/", { activationCode: "has space", productId: "", server: "" });
    equal(malformed.status, 400);
    ok(malformed.body.includes('id="activationCode-error"'), malformed.body.slice(0, 200));
    ok(malformed.body.includes("a space, control or non-ASCII character"), "the configuration's own message");
    equal(rig.platform.activations.length, 0, "nothing reached the platform");
    equal(rig.store.data.get("activationCode"), undefined, "nothing stored");

    const wrong = await post(rig, "/", { activationCode: "WRONG-code" });
    equal(wrong.status, 303);
    equal(wrong.header("location"), "/");
    await rig.clock.advance(500);
    let state = await status(rig);
    equal(state.phase, "failed");
    equal(state.error, "Error creating thing", "the platform's message, verbatim");
    deepEqual(rig.platform.activations, ["WRONG-code"]);
    equal(rig.store.data.get("activationCode"), undefined, "a refused code is not kept");
    await rig.clock.advance(600_000);
    deepEqual(rig.platform.activations, ["WRONG-code"], "a refused code is not retried");

    const right = await post(rig, "/", { activationCode: GOOD_CODE, productId: "" });
    equal(right.status, 303);
    await rig.clock.advance(500);
    state = await status(rig);
    equal(state.phase, "done", JSON.stringify(state));
    ok(state.message.startsWith("Activated: thing token NwFb… stored"), state.message);
    equal(state.token, "NwFb…");
    ok(!JSON.stringify(state).includes(TOKENS[0]!), "the token is never sent whole");
    equal(rig.store.data.get(TOKEN_STORE_KEY), TOKENS[0]);
    equal(rig.store.data.get("activationCode"), GOOD_CODE, "what was entered is kept");
    deepEqual(
      state.steps.map((step) => `${step.step}:${step.state}`),
      ["activate:done", "subscribe:done"],
    );
    await rig.clock.advance(15_000);
    ok(!rig.device.setupOpen, "the portal closes after the outcome was shown");
    ok(!rig.tcp.listening);
    equal(closedCount(rig), 1);
    await rig.clock.advance(10_000);
    ok((rig.platform.stored.get(TOKENS[0]!) ?? 0) > 0, "batches reach the platform");
    rig.device.close();
  });

  test("the next boot goes straight to work: stored token, no portal", async () => {
    const store = activatedStore();
    const rig = setupRig({ store });
    rig.device.start();
    await rig.clock.advance(10_000);
    ok(!rig.device.setupOpen);
    deepEqual(setupUrls(rig), []);
    equal(rig.platform.activations.length, 0);
    ok((rig.platform.stored.get(TOKENS[0]!) ?? 0) > 0);
    rig.device.close();
  });

  test("a built-in code the platform refuses opens setup with its message and is not retried", async () => {
    const rig = setupRig({ settings: { activationCode: "BUILT-in-bad" } });
    rig.device.start();
    await rig.clock.advance(1_000);
    equal(setupUrls(rig).length, 1);
    const state = await status(rig);
    equal(state.error, "Error creating thing");
    equal(state.reason, "The platform refused the activation code.");
    await rig.clock.advance(3_600_000);
    deepEqual(rig.platform.activations, ["BUILT-in-bad"]);
    rig.device.close();
  });

  test("setup=never keeps the fleet behaviour: a refused code is retried with backoff and no page opens", async () => {
    const rig = setupRig({ settings: { activationCode: "BUILT-in-bad", setup: "never" } });
    rig.device.start();
    await rig.clock.advance(3_600_000);
    deepEqual(setupUrls(rig), []);
    ok(rig.platform.activations.length > 3, String(rig.platform.activations.length));
    rig.device.close();
  });

  test("no setup ports (a device built without a portal) never opens one", async () => {
    const rig = setupRig({ noSetup: true, setupRequested: true, settings: { setup: "always" } });
    rig.device.start();
    await rig.clock.advance(1_000);
    ok(!rig.device.setupOpen);
    rig.device.close();
  });
});

suite("setup: a refused token", () => {
  test("4.04 'Thing not found' with reactivateOnAuthFailure off opens setup; sampling goes on; a new code brings a new thing", async () => {
    const store = new MemoryStore();
    store.write(TOKEN_STORE_KEY, TOKENS[1]!);
    const rig = setupRig({ store });
    rig.platform.revoked.add(TOKENS[1]!);
    rig.device.start();
    await rig.clock.advance(2_000);
    equal(setupUrls(rig).length, 1, rig.logs.join("\n"));
    let state = await status(rig);
    equal(state.reason, "The platform no longer accepts this device's thing token: give it a new activation code.");
    ok((state.error ?? "").includes("Thing not found"), String(state.error));
    const before = rig.device.stats().sampled;
    await rig.clock.advance(10_000);
    ok(rig.device.stats().sampled > before, "sampling goes on");
    ok(rig.device.stats().buffered > 0, "and buffering");
    equal(rig.platform.activations.length, 0, "no new thing by itself");

    const empty = await post(rig, "/", { activationCode: "" });
    equal(empty.status, 400, "a code is needed now");
    await post(rig, "/", { activationCode: GOOD_CODE });
    await rig.clock.advance(2_000);
    state = await status(rig);
    equal(state.phase, "done", JSON.stringify(state));
    equal(rig.store.data.get(TOKEN_STORE_KEY), TOKENS[0]);
    await rig.clock.advance(20_000);
    ok((rig.platform.stored.get(TOKENS[0]!) ?? 0) > 0, "the buffered values go to the new thing");
    rig.device.close();
  });

  test("with reactivateOnAuthFailure on, the device activates again by itself and no page opens", async () => {
    const store = new MemoryStore();
    store.write(TOKEN_STORE_KEY, TOKENS[1]!);
    const rig = setupRig({ store, settings: { reactivateOnAuthFailure: "true", activationCode: GOOD_CODE } });
    rig.platform.revoked.add(TOKENS[1]!);
    rig.device.start();
    await rig.clock.advance(120_000);
    deepEqual(setupUrls(rig), []);
    equal(rig.store.data.get(TOKEN_STORE_KEY), TOKENS[0]);
    rig.device.close();
  });
});

suite("setup: on demand", () => {
  test("asked for at boot with a working token: the page shows the device's state; Forget erases everything", async () => {
    const store = activatedStore();
    store.write("server", "coap://192.0.2.1:5683");
    const rig = setupRig({ store, setupRequested: true });
    rig.device.start();
    await rig.clock.advance(5_000);
    ok(rig.device.setupOpen);
    const page = await get(rig, "/");
    ok(page.body.includes("Thing token: NwFb…"), "first four characters only");
    ok(!page.body.includes(TOKENS[0]!));
    ok(page.body.includes("Forget this device"));
    ok(page.body.includes("Leave empty to keep this device's thing."), "the code is optional now");
    const stats = rig.device.stats();
    ok(stats.buffered >= 0);

    const unconfirmed = await post(rig, "/forget", {});
    equal(unconfirmed.status, 400);
    equal(rig.store.data.get(TOKEN_STORE_KEY), TOKENS[0]);
    rig.platform.server.handle(() => undefined);
    await rig.clock.advance(3_000);
    ok(rig.device.stats().buffered > 0, "values are waiting (the platform stopped answering)");
    const forgot = await post(rig, "/forget", { confirm: "yes" });
    equal(forgot.status, 303);
    equal(forgot.header("location"), "/?forgotten");
    equal(rig.store.data.get(TOKEN_STORE_KEY), undefined, "the token is gone");
    equal(rig.store.data.get("server"), undefined, "what was entered is gone");
    equal(rig.device.stats().buffered, 0, "the values waiting for the old thing are gone");
    const after = await get(rig, "/?forgotten");
    ok(after.body.includes("This device was forgotten"));
    const state = await status(rig);
    equal(state.token, null);
    const needsCode = await post(rig, "/", { activationCode: "" });
    equal(needsCode.status, 400, "a new code is needed");
    rig.device.close();
  });

  test("setup=always opens at every boot, also with a token", async () => {
    const store = activatedStore();
    const rig = setupRig({ store, settings: { setup: "always", setupPort: "8088" } });
    rig.device.start();
    await rig.clock.advance(100);
    deepEqual(setupUrls(rig), ["http://127.0.0.1:8088/"]);
    rig.device.close();
    ok(!rig.tcp.listening, "close() closes the page");
  });

  test("a submission that changes nothing but the server retargets the device and finishes", async () => {
    const store = activatedStore();
    const rig = setupRig({ store, setupRequested: true, settings: { server: "coap://192.0.2.77:5683" } });
    rig.device.start();
    await rig.clock.advance(1_000);
    await post(rig, "/", { activationCode: "", server: "coap://192.0.2.1" });
    await rig.clock.advance(60_000);
    const state = await status(rig).catch(() => undefined);
    equal(state, undefined, "the portal closed once the device was subscribed at the new server");
    equal(rig.store.data.get("server"), "coap://192.0.2.1:5683", "kept in its normalized form");
    ok((rig.platform.stored.get(TOKENS[0]!) ?? 0) > 0, "the values reach the new server");
    rig.device.close();
  });
});

suite("setup: an on-demand portal nobody uses closes (setupTimeout)", () => {
  test("asked for with a working token: closes after setupTimeout without a request; a request restarts the wait", async () => {
    const store = activatedStore();
    const rig = setupRig({ store, setupRequested: true, settings: { setupTimeout: "10m" } });
    rig.device.start();
    await rig.clock.advance(9 * 60_000);
    ok(rig.device.setupOpen, "open before setupTimeout");
    equal((await get(rig, "/generate_204")).status, 404, "any request counts, a phone's check included");
    await rig.clock.advance(9 * 60_000);
    ok(rig.device.setupOpen, "18 min after boot, 9 after the request: still open");
    await rig.clock.advance(61_000);
    ok(!rig.device.setupOpen, "10 min after the last request: closed");
    ok(!rig.tcp.listening, "the page's listener is gone");
    equal(closedCount(rig), 1);
    ok(
      rig.logs.some((line) => line.includes("no request for 10m (setupTimeout); closing setup")),
      "the log says why",
    );
    const before = rig.platform.stored.get(TOKENS[0]!) ?? 0;
    await rig.clock.advance(10_000);
    ok((rig.platform.stored.get(TOKENS[0]!) ?? 0) > before, "the device keeps working");
    rig.device.close();
  });

  test("setup=always times out too; setupTimeout=off keeps the page until setup is done", async () => {
    const store = activatedStore();
    const always = setupRig({ store, settings: { setup: "always", setupTimeout: "1m" } });
    always.device.start();
    await always.clock.advance(61_000);
    ok(!always.device.setupOpen, "setup=always closes after a minute idle");
    always.device.close();

    const kept = setupRig({ store, setupRequested: true, settings: { setupTimeout: "off" } });
    kept.device.start();
    await kept.clock.advance(3_600_000);
    ok(kept.device.setupOpen, "off: open after an hour");
    kept.device.close();
  });

  test("a portal that still lacks something never times out: no token, a forgotten device, no Wi-Fi", async () => {
    const noToken = setupRig({ settings: { setup: "always", setupTimeout: "1m" } });
    noToken.device.start();
    await noToken.clock.advance(3_600_000);
    ok(noToken.device.setupOpen, "setup=always without a token or code: open after an hour");
    noToken.device.close();

    const store = activatedStore();
    const forgotten = setupRig({ store, setupRequested: true, settings: { setupTimeout: "1m" } });
    forgotten.device.start();
    await forgotten.clock.advance(1_000);
    equal((await post(forgotten, "/forget", { confirm: "yes" })).status, 303);
    await forgotten.clock.advance(3_600_000);
    ok(forgotten.device.setupOpen, "forgotten: waits for a new code");
    forgotten.device.close();

    const withToken = activatedStore();
    const radio = new FakeRadio();
    const noWifi = setupRig({
      store: withToken,
      radio,
      setupRequested: true,
      settings: { setupTimeout: "1m", setupPort: "80" },
    });
    noWifi.device.start();
    await noWifi.clock.advance(3_600_000);
    ok(noWifi.device.setupOpen, "asked for on a board with no Wi-Fi stored: the access point stays");
    noWifi.device.close();
  });
});

suite("setup: the page's HTTP rules", () => {
  test("405 with Allow, 404 for unknown paths off the access point, 415 and 400 for bad forms", async () => {
    const rig = setupRig();
    rig.device.start();
    await rig.clock.advance(100);
    const put = await get(rig, "/").then(() => post(rig, "/status", { a: "1" }));
    equal(put.status, 405);
    equal(put.header("allow"), "GET, HEAD");
    const del = await (async () => {
      const client = rig.tcp.connect();
      client.send("DELETE / HTTP/1.1\r\nHost: h\r\n\r\n");
      await rig.clock.settle();
      return client;
    })();
    equal(del.status, 405);
    equal(del.header("allow"), "GET, HEAD, POST");
    equal((await get(rig, "/generate_204")).status, 404);
    const json = rig.tcp.connect();
    json.send("POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}");
    await rig.clock.settle();
    equal(json.status, 415);
    const broken = rig.tcp.connect();
    broken.send(
      "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 4\r\n\r\na=%G",
    );
    await rig.clock.settle();
    equal(broken.status, 400);
    equal(rig.store.writes, 0, "nothing reached the flash");
    rig.device.close();
  });

  test("entered values are written only when they changed", async () => {
    const rig = setupRig({ settings: { activationCode: "" } });
    rig.device.start();
    await rig.clock.advance(100);
    await post(rig, "/", { activationCode: "WRONG-1", productId: "prod-1" });
    await rig.clock.advance(1_000);
    const writes = rig.store.writes;
    await post(rig, "/", { activationCode: "WRONG-1", productId: "prod-1" });
    await rig.clock.advance(1_000);
    equal(rig.store.writes, writes + 1, "only the code again (it was removed when refused); productId unchanged");
    rig.device.close();
  });
});

suite("setup on the board: access point, Wi-Fi", () => {
  test("no Wi-Fi credentials: the access point opens; captive checks redirect; a failed join is shown and nothing kept", async () => {
    const radio = new FakeRadio(undefined);
    const rig = setupRig({ radio, settings: { setupPort: "80", setupPassword: "" } });
    rig.device.start();
    await rig.clock.advance(100);
    deepEqual(setupUrls(rig), ["http://192.168.4.1/"]);
    deepEqual(radio.accessPoint, { password: undefined }, "open without setupPassword");
    const probe = await get(rig, "/generate_204", "connectivitycheck.gstatic.com");
    equal(probe.status, 302);
    equal(probe.header("location"), "http://192.168.4.1/");
    equal((await get(rig, "/hotspot-detect.html", "192.168.4.1")).status, 302);
    const page = await get(rig, "/", "192.168.4.1");
    ok(page.body.includes('name="ssid"') && page.body.includes("Home &lt;5G&gt;"), "the scan list, escaped");
    ok(page.body.includes("your phone may drop off"), "the page says so beforehand");

    const shortPassword = await post(
      rig,
      "/",
      { ssid: "Home", password: "short", activationCode: GOOD_CODE },
      "192.168.4.1",
    );
    equal(shortPassword.status, 400);
    ok(shortPassword.body.includes('id="password-error"'));
    equal(radio.joins.length, 0);

    radio.nextJoin = { ok: false, reason: "wrong password" };
    await post(rig, "/", { ssid: "Home", password: "secret-99", activationCode: GOOD_CODE }, "192.168.4.1");
    await rig.clock.advance(100);
    let state = await status(rig, "192.168.4.1");
    equal(state.phase, "failed");
    equal(state.error, "Could not join Home: wrong password");
    equal(rig.store.data.get("ssid"), undefined, "credentials are kept only once the network took them");

    radio.nextJoin = { ok: true, address: "192.168.1.50" };
    await post(rig, "/", { ssid: "Home", password: "secret-99", activationCode: GOOD_CODE }, "192.168.4.1");
    await rig.clock.advance(1_000);
    state = await status(rig, "192.168.4.1");
    equal(state.phase, "done", JSON.stringify(state));
    deepEqual(
      state.steps.map((step) => `${step.step}:${step.state}`),
      ["wifi:done", "activate:done", "subscribe:done"],
    );
    equal(rig.store.data.get("ssid"), "Home");
    equal(rig.store.data.get("wifiPassword"), "secret-99");
    ok(!JSON.stringify(state).includes("secret-99"), "the password never goes back");
    await rig.clock.advance(15_000);
    equal(radio.accessPoint, undefined, "the access point closes with the portal");
    rig.device.close();
  });

  test("WPA2 access point with setupPassword; a password under 8 characters stops the configuration", async () => {
    const radio = new FakeRadio(undefined);
    const rig = setupRig({ radio, settings: { setupPassword: "portal-pass" } });
    rig.device.start();
    await rig.clock.advance(100);
    deepEqual(radio.accessPoint, { password: "portal-pass" });
    rig.device.close();
    let message = "";
    try {
      setupRig({ radio: new FakeRadio(undefined), settings: { setupPassword: "short" } });
    } catch (error) {
      message = String(error);
    }
    ok(message.includes("config setupPassword: 5 characters, WPA2 needs at least 8"), message);
  });

  test("Wi-Fi out of reach for setupAfter opens setup; the background rejoin closes it (never stranded)", async () => {
    const store = activatedStore();
    const radio = new FakeRadio("Home");
    const rig = setupRig({ store, radio, settings: { setupAfter: "5m" } });
    rig.device.start();
    await rig.clock.advance(1_000);
    ok(!rig.device.setupOpen, "credentials and a token: no setup");
    rig.device.networkLost();
    await rig.clock.advance(299_000);
    ok(!rig.device.setupOpen, "not before setupAfter");
    rig.device.networkLost();
    await rig.clock.advance(1_000);
    ok(rig.device.setupOpen, "after setupAfter");
    equal(
      (await status(rig, "192.168.4.1")).reason,
      "The Wi-Fi network cannot be joined now; the device keeps trying meanwhile.",
    );
    rig.device.networkChanged();
    ok(!rig.device.setupOpen, "the stored network is back: setup closes");
    equal(radio.accessPoint, undefined);
    equal(closedCount(rig), 1);

    rig.device.networkLost();
    await rig.clock.advance(60_000);
    rig.device.networkChanged();
    await rig.clock.advance(600_000);
    ok(!rig.device.setupOpen, "back within setupAfter: no setup at all");
    rig.device.close();
  });

  test("a person in the middle of a submission keeps the portal when the old network comes back", async () => {
    const store = activatedStore();
    const radio = new FakeRadio("Home");
    const rig = setupRig({ store, radio });
    rig.device.start();
    rig.device.networkLost();
    await rig.clock.advance(300_000);
    ok(rig.device.setupOpen);
    let resolveJoin: (outcome: { ok: true; address: string }) => void = () => undefined;
    radio.join = (ssid) => {
      radio.joins.push({ ssid, password: undefined });
      return new Promise((resolve) => {
        resolveJoin = resolve;
      });
    };
    await post(rig, "/", { ssid: "Office", password: "", activationCode: "" }, "192.168.4.1");
    rig.device.networkChanged();
    ok(rig.device.setupOpen, "busy: stays");
    resolveJoin({ ok: true, address: "10.0.0.8" });
    await rig.clock.advance(1_000);
    ok(rig.device.setupOpen, "joined, not yet subscribed on the new network");
    // The watch reports the new network (gotIP): the subscription registers again from it.
    rig.device.networkChanged();
    await rig.clock.advance(20_000);
    ok(!rig.device.setupOpen, "then finishes and closes");
    equal(rig.store.data.get("ssid"), "Office");
    rig.device.close();
  });
});
