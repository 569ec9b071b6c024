// First boot and later boots: activation, the stored token, refused tokens, and the rule that
// no log line ever carries the token (or the activation code) whole.
import { Provisioning, TOKEN_STORE_KEY } from "../../device/provisioning.js";
import { ThethingsClient } from "../../thethings/client.js";
import { ThethingsError } from "../../thethings/errors.js";
import { FakeCoapClient, reply } from "../core-fakes/fake-coap-client.js";
import { MemoryStore, RecordingLog } from "../core-fakes/thethings-fakes.js";
import { equal, ok } from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";
import { FakeClock } from "../sim/fake-clock.js";
import { ConstantRandom } from "../sim/seeded-random.js";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-ABCDE";
const TOKEN_2 = "ZyXwVuTsRqPoNmLkJiHgFeDcBa9876543210-_zyxwv";
const CODE = "ACT1vationC0de-0123456789abcdefghi";

function boot(
  store: MemoryStore,
  options: { activationCode?: string; reactivateOnAuthFailure?: boolean } = { activationCode: CODE },
) {
  const clock = new FakeClock();
  const log = new RecordingLog();
  const coap = new FakeCoapClient();
  const provisioning = new Provisioning({
    activator: new ThethingsClient({ coap, log: log.sink }),
    store,
    clock,
    random: new ConstantRandom(0),
    log: log.sink,
    ...options,
  });
  return { clock, log, coap, provisioning };
}

/** Every secret must be absent from every line; its redacted form may appear. */
function assertNoSecrets(log: RecordingLog, ...secrets: string[]): void {
  for (const line of log.lines) {
    for (const secret of secrets)
      ok(!line.message.includes(secret), `a ${line.level} line carries a secret: ${line.message.slice(0, 20)}…`);
  }
}

suite("provisioning first boot", () => {
  test("first boot activates with the configured code and stores the token; the next boot reuses it without a request", async () => {
    const store = new MemoryStore();
    const first = boot(store);
    first.coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
    equal(await first.provisioning.obtainToken(), TOKEN);
    equal(first.coap.requests.length, 1);
    equal(first.coap.requests[0]!.path, "/v2/things/");
    equal(store.data.get(TOKEN_STORE_KEY), TOKEN);
    equal(store.writes, 1);
    ok(first.log.matching("AbCd… (43 chars) stored").length === 1, first.log.text);
    assertNoSecrets(first.log, TOKEN, CODE);

    const second = boot(store);
    equal(await second.provisioning.obtainToken(), TOKEN);
    equal(second.coap.requests.length, 0, "no activation on a later boot");
    equal(store.writes, 1, "no flash write on a later boot");
    equal(second.provisioning.token, TOKEN);
    assertNoSecrets(second.log, TOKEN);
  });

  test("the store key fits a Moddable Preference key (≤ 15 characters)", () => {
    ok(TOKEN_STORE_KEY.length <= 15);
  });

  test("productId goes with the activation when configured", async () => {
    const store = new MemoryStore();
    const clock = new FakeClock();
    const coap = new FakeCoapClient();
    coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
    const provisioning = new Provisioning({
      activator: new ThethingsClient({ coap, log: () => undefined }),
      store,
      clock,
      random: new ConstantRandom(0),
      log: () => undefined,
      activationCode: CODE,
      productId: "prod-1",
    });
    await provisioning.obtainToken();
    equal(coap.requests[0]!.payload, JSON.stringify({ activationCode: CODE, productId: "prod-1" }));
  });

  test("a blank activation code counts as none", async () => {
    const { provisioning, log, coap, clock } = boot(new MemoryStore(), { activationCode: "   " });
    void provisioning.obtainToken().catch(() => undefined);
    await clock.settle();
    equal(coap.requests.length, 0);
    equal(log.matching("no activation code").length, 1);
    provisioning.close();
  });

  test("concurrent calls share one activation", async () => {
    const { provisioning, coap } = boot(new MemoryStore());
    coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
    const [a, b] = await Promise.all([provisioning.obtainToken(), provisioning.obtainToken()]);
    equal(a, TOKEN);
    equal(b, TOKEN);
    equal(coap.requests.length, 1);
  });

  test("a garbage stored token is removed and the device activates", async () => {
    const store = new MemoryStore();
    store.data.set(TOKEN_STORE_KEY, "{corrupted flash}");
    const { provisioning, coap, log } = boot(store);
    coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
    equal(await provisioning.obtainToken(), TOKEN);
    equal(store.data.get(TOKEN_STORE_KEY), TOKEN);
    equal(log.matching("unusable").length, 1);
  });

  test("an empty stored token is refused the same way", async () => {
    const store = new MemoryStore();
    store.data.set(TOKEN_STORE_KEY, "");
    const { provisioning, coap } = boot(store);
    coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
    equal(await provisioning.obtainToken(), TOKEN);
    equal(coap.requests.length, 1);
  });

  test("a stored token of unusual length is used, with a redacted warning", async () => {
    const store = new MemoryStore();
    const odd = "NwFbEqwEQ-ucyW8aET34EWi6L_tte6fumxTSU-Pkw";
    store.data.set(TOKEN_STORE_KEY, odd);
    const { provisioning, coap, log } = boot(store);
    equal(await provisioning.obtainToken(), odd);
    equal(coap.requests.length, 0);
    equal(log.at("warn").length, 1);
    assertNoSecrets(log, odd);
  });

  test("a token that cannot be stored is still used, and the failure is logged", async () => {
    const store = new MemoryStore();
    const { provisioning, coap, log } = boot(store);
    coap.script(reply("2.01", { status: "created", thingToken: TOKEN }));
    const original = store.write.bind(store);
    store.write = () => {
      throw new Error("flash full");
    };
    equal(await provisioning.obtainToken(), TOKEN);
    store.write = original;
    equal(log.matching("could not store").length, 1);
    assertNoSecrets(log, TOKEN);
  });

  suite("refused token", () => {
    const refusal = new ThethingsError("unauthorized", "write", "4.01", { code: "4.01" });

    test("by default: logged clearly once, the token kept, no activation", async () => {
      const store = new MemoryStore();
      store.data.set(TOKEN_STORE_KEY, TOKEN);
      const { provisioning, coap, log } = boot(store);
      await provisioning.obtainToken();
      equal(await provisioning.handleAuthFailure(refusal), undefined);
      equal(await provisioning.handleAuthFailure(refusal), undefined);
      const errors = log.at("error");
      equal(errors.length, 1, "once per token");
      ok(
        errors[0]!.message.includes("4.01") &&
          errors[0]!.message.includes("AbCd…") &&
          errors[0]!.message.includes("reactivateOnAuthFailure"),
        errors[0]!.message,
      );
      equal(store.data.get(TOKEN_STORE_KEY), TOKEN);
      equal(coap.requests.length, 0);
      assertNoSecrets(log, TOKEN);
    });

    test("with reactivateOnAuthFailure: the token is dropped and the device activates again after a delay", async () => {
      const store = new MemoryStore();
      store.data.set(TOKEN_STORE_KEY, TOKEN);
      const { provisioning, coap, log, clock } = boot(store, { activationCode: CODE, reactivateOnAuthFailure: true });
      await provisioning.obtainToken();
      coap.script(reply("2.01", { status: "created", thingToken: TOKEN_2 }));
      let renewed: string | undefined;
      void provisioning.handleAuthFailure(refusal).then(
        (token) => (renewed = token),
        () => undefined,
      );
      await clock.settle();
      equal(store.data.get(TOKEN_STORE_KEY), undefined, "dropped at once");
      equal(coap.requests.length, 0, "not yet: the re-activation waits a backoff delay");
      await clock.advance(1000);
      equal(renewed, TOKEN_2);
      equal(store.data.get(TOKEN_STORE_KEY), TOKEN_2);
      equal(coap.requests.length, 1);
      assertNoSecrets(log, TOKEN, TOKEN_2, CODE);
    });

    test("other error kinds are not a refused token", async () => {
      const store = new MemoryStore();
      store.data.set(TOKEN_STORE_KEY, TOKEN);
      const { provisioning, log } = boot(store, { activationCode: CODE, reactivateOnAuthFailure: true });
      await provisioning.obtainToken();
      equal(await provisioning.handleAuthFailure(new ThethingsError("server", "write", "5.00")), undefined);
      equal(store.data.get(TOKEN_STORE_KEY), TOKEN);
      equal(log.at("error").length, 0);
    });
  });
});
