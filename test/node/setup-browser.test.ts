// The setup page in a real browser: headless Chromium (Debian's package, driven by npm
// playwright-core; no browser download) opens the PC runner's page against the local platform,
// sees the field error for a malformed code, the platform's "Error creating thing" for a wrong
// one, then activates with the right one; the device's batches reach the platform, and the next
// boot goes straight to work without a page. A phone-sized screenshot of the outcome goes to
// build/setup-page.png (the README's picture is a copy). Skips, saying so, only when
// /usr/bin/chromium is missing (CI installs it: .ci/run).
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { chromium } from "playwright-core";
import { RestartablePlatform, waitFor } from "../e2e/harness.js";
import { finished, Lines, REPO } from "./emulator/tools.js";

const CHROMIUM = "/usr/bin/chromium";
const CODE = "BROWSER-TEST-CODE-0001";
const DEVICE_CLI = `${REPO}build/host/device-cli.js`;
export const SCREENSHOT = `${REPO}build/setup-page.png`;

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

function startDevice(port: number, stateDir: string): { child: ChildProcess; lines: Lines } {
  const child = spawn(
    process.execPath,
    [
      DEVICE_CLI,
      ...["--server", `coap://127.0.0.1:${port}`, "--state", stateDir, "--setup-port", "0"],
      ...["--interval", "300ms", "--batch", "3", "--max-delay", "1s", "--keep-alive", "5s", "--json"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  cleanups.push(() => child.kill("SIGKILL"));
  return { child, lines: new Lines(child) };
}

const hasEvent = (name: string) => (line: string) => line.startsWith(`{"event":"${name}"`);

test("a person sets the device up in Chromium: field error, platform error, activation; the next boot needs no page", {
  skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install chromium): browser test skipped`,
  timeout: 120_000,
}, async () => {
  const platform = new RestartablePlatform([CODE]);
  cleanups.push(() => platform.dispose());
  await platform.start();
  const stateDir = mkdtempSync(join(tmpdir(), "setup-browser-"));
  cleanups.push(() => rmSync(stateDir, { recursive: true, force: true }));
  const profile = mkdtempSync(join(tmpdir(), "setup-browser-profile-"));
  cleanups.push(() => rmSync(profile, { recursive: true, force: true }));

  const first = startDevice(platform.port, stateDir);
  const opened = JSON.parse(await first.lines.waitFor(hasEvent("setup"), 20_000)) as { url: string };
  assert.match(opened.url, /^http:\/\/127\.0\.0\.1:\d+\/$/, "loopback only, the port printed");

  // A fresh profile; playwright passes it to Chromium as --user-data-dir.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 1,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  cleanups.push(() => browser.close());
  const page = browser.pages()[0] ?? (await browser.newPage());
  const failed: string[] = [];
  page.on("requestfailed", (request) => failed.push(request.url()));
  await page.goto(opened.url);
  assert.equal(await page.title(), "Set up this device");
  assert.equal(await page.getByLabel("Activation code").count(), 1, "the label is tied to its field");

  await page.getByLabel("Activation code").fill("has a space");
  await page.getByRole("button", { name: "Save and connect" }).click();
  const fieldError = page.locator("#activationCode-error");
  await fieldError.waitFor();
  assert.match((await fieldError.textContent()) ?? "", /a space, control or non-ASCII character/);
  assert.equal(platform.events.filter((e) => e.event.event === "refused").length, 0, "nothing reached the platform");

  await page.getByLabel("Activation code").fill("WRONG-CODE-0001");
  await page.getByRole("button", { name: "Save and connect" }).click();
  await page.locator("#error", { hasText: "Error creating thing" }).waitFor({ timeout: 15_000 });

  await page.getByLabel("Activation code").fill(CODE);
  await page.getByRole("button", { name: "Save and connect" }).click();
  const message = page.locator("#message", { hasText: "Activated: thing token" });
  await message.waitFor({ timeout: 15_000 });
  assert.match((await message.textContent()) ?? "", /^Activated: thing token [A-Za-z0-9_-]{4}… stored/);
  await page.locator("#progress li.done", { hasText: "Subscribed" }).waitFor({ timeout: 15_000 });
  await page.locator("#reason", { hasText: "This device is set up." }).waitFor();
  await page.screenshot({ path: SCREENSHOT, fullPage: false });
  assert.deepEqual(failed, [], "no request of the page failed (no external resources)");
  await first.lines.waitFor(hasEvent("activated"), 5_000);
  await waitFor("batches on the platform", () => platform.storedValues().length >= 3, 15_000);
  first.child.kill("SIGTERM");
  await finished(first.child, 10_000);

  const second = startDevice(platform.port, stateDir);
  await second.lines.waitFor(hasEvent("subscribed"), 15_000);
  const before = platform.storedValues().length;
  await second.lines.waitFor(hasEvent("sent"), 15_000);
  await waitFor("more batches", () => platform.storedValues().length > before, 15_000);
  assert.ok(!second.lines.all.some(hasEvent("setup")), "the next boot opens no page");
  assert.ok(!second.lines.all.some(hasEvent("activated")), "and does not activate again");
  second.child.kill("SIGTERM");
  await finished(second.child, 10_000);
});
