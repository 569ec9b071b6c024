// The dashboard in a real browser: headless Chromium (the Debian package, driven by
// playwright-core; no browser download) against the platform with the PC device running with a
// `led` (digital) and a `fan` (PWM) output. The thing shows online, the temperature chart gains
// points live, a click on the led switch reaches the device within 1 s, and the fan slider sets
// the PWM output. A screenshot goes to build/dashboard.png (or $DASHBOARD_SCREENSHOT).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { type Platform, startPlatform } from "../../emulator/server.js";
import { finished, Lines, REPO } from "./emulator/tools.js";

const CHROMIUM = process.env.CHROMIUM ?? "/usr/bin/chromium";
const DEVICE_CLI = `${REPO}build/host/device-cli.js`;
const CODE = "BROWSER-TEST-CODE-0123456789abcdefg";

interface DeviceEvent {
  event: string;
  key?: string;
  value?: unknown;
  level?: number;
}

let platform: Platform;
let device: ReturnType<typeof spawn>;
let deviceLines: Lines;
let deviceExit: ReturnType<typeof finished>;
let browser: BrowserContext;
let page: Page;
const pageErrors: string[] = [];
const dirs: string[] = [];

/** Device events as they come, with the time each line arrived. */
const events: { at: number; event: DeviceEvent }[] = [];

function waitForEvent(match: (e: DeviceEvent) => boolean, since: number, timeoutMs: number) {
  return new Promise<{ at: number; event: DeviceEvent }>((resolve, reject) => {
    const end = Date.now() + timeoutMs;
    const look = (): void => {
      const found = events.find((e) => e.at >= since && match(e.event));
      if (found !== undefined) resolve(found);
      else if (Date.now() > end) reject(new Error(`no matching device event within ${timeoutMs} ms`));
      else setTimeout(look, 5);
    };
    look();
  });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (bash .ci/run does)`);
  platform = await startPlatform({ port: 0, activationCodes: [CODE], dashboard: { port: 0 } });
  const state = mkdtempSync(join(tmpdir(), "dashboard-device-"));
  dirs.push(state);
  device = spawn(
    process.execPath,
    [
      DEVICE_CLI,
      "--server",
      `coap://127.0.0.1:${platform.port}`,
      "--activation-code",
      CODE,
      "--state",
      state,
      "--interval",
      "500ms",
      "--batch",
      "2",
      "--max-delay",
      "1s",
      "--keep-alive",
      "10s",
      "--actuators",
      "led:digital:2,fan:pwm:4",
      "--json",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  deviceExit = finished(device, 120_000);
  deviceLines = new Lines(device);
  device.stdout?.on("data", () => {});
  await deviceLines.waitFor((l) => l.includes('"subscribed"'), 20_000);
  const profile = mkdtempSync(join(tmpdir(), "dashboard-chromium-"));
  dirs.push(profile);
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 860 },
    colorScheme: "light",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  page = browser.pages()[0] ?? (await browser.newPage());
  page.on("pageerror", (error) => pageErrors.push(error.message));
  page.on("console", (message) => {
    if (message.type() === "error") pageErrors.push(message.text());
  });
});

after(async () => {
  await browser?.close();
  device?.kill("SIGTERM");
  if (device !== undefined) await deviceExit;
  await platform?.stop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

// Lines from the device, parsed as they come (Lines keeps them; this stamps their arrival).
function track(): void {
  let seen = 0;
  const poll = setInterval(() => {
    for (; seen < deviceLines.all.length; seen++) {
      events.push({ at: Date.now(), event: JSON.parse(deviceLines.all[seen] as string) as DeviceEvent });
    }
  }, 2);
  poll.unref();
}

test("browser: online thing, a live temperature chart, the led switch and the fan slider drive the device", async (t) => {
  track();
  const url = platform.dashboard?.url;
  assert.ok(url !== undefined);
  await page.goto(url);

  // The thing, online, selected by itself as the only one.
  await page.locator('.thing[data-online="true"]').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator("#thing-online").textContent(), "online");
  assert.match((await page.locator("#online-rule").textContent()) ?? "", /keepAlive \+ 5 s/);

  // The temperature chart gains points within 10 s.
  const chart = page.locator('[data-key="temperature"] .chart');
  await chart.waitFor({ timeout: 10_000 });
  await page.locator('[data-key="temperature"] canvas').first().waitFor({ timeout: 10_000 });
  const points = async () => Number(await chart.getAttribute("data-points"));
  const before = await points();
  const grew = Date.now();
  while ((await points()) <= before && Date.now() - grew < 10_000) await page.waitForTimeout(50);
  const gained = (await points()) - before;
  const grewMs = Date.now() - grew;
  assert.ok(gained > 0, `the chart gained ${gained} point(s) in ${grewMs} ms (10 s allowed)`);

  // The led switch: its accessible name is the key; a click reaches the device within 1 s.
  const led = page.getByRole("switch", { name: "led" });
  const wasOn = (await led.getAttribute("aria-checked")) === "true";
  const clicked = Date.now();
  await led.click();
  const command = await waitForEvent((e) => e.event === "command" && e.key === "led", clicked, 1_000);
  assert.equal(command.event.level, wasOn ? 0 : 1);
  assert.ok(command.at - clicked <= 1_000, `${command.at - clicked} ms from click to the device`);
  assert.equal(await led.getAttribute("aria-checked"), wasOn ? "false" : "true");

  // The fan slider: a click at 40 % of its track sets the PWM output to the slider's value.
  const fan = page.getByRole("slider", { name: "fan" });
  const box = await fan.boundingBox();
  assert.ok(box !== null);
  const slid = Date.now();
  await page.mouse.click(box.x + box.width * 0.4, box.y + box.height / 2);
  const percent = Number(await fan.inputValue());
  assert.ok(percent >= 30 && percent <= 50, `slider at ${percent} %`);
  const pwm = await waitForEvent((e) => e.event === "command" && e.key === "fan", slid, 3_000);
  assert.equal(pwm.event.value, `${percent}%`);
  assert.ok(Math.abs((pwm.event.level as number) - percent / 100) < 1e-9, `duty ${pwm.event.level}`);

  // The page's own state follows: the latest fan value shows on its card once it arrives live.
  await page.locator('[data-key="fan"] .latest-value').waitFor({ timeout: 5_000 });
  assert.equal(await page.locator('[data-key="fan"] .latest-value').textContent(), `${percent}%`);

  t.diagnostic(
    `chart +${gained} point(s) ${grewMs} ms after watching; led click → device ${command.at - clicked} ms; ` +
      `fan ${percent} % → duty ${pwm.event.level} in ${pwm.at - slid} ms`,
  );
  await page.screenshot({ path: process.env.DASHBOARD_SCREENSHOT ?? `${REPO}build/dashboard.png` });
  assert.deepEqual(pageErrors, [], "no script error on the page");
});
