// The PC's outbox storage (host/file-page-store.ts): pages in files of the --state folder that a
// crash cannot tear, the outbox over it across "reboots" (torn and stale files included), and the
// runner's flags for the outbox and the clock.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { FilePageStore } from "../../host/file-page-store.js";
import { Outbox } from "../../sensors/outbox.js";
import { TearingPageStore } from "../core-fakes/page-stores.js";

const UTC = Date.UTC(2024, 4, 6) / 1000;

function outbox(store: FilePageStore | TearingPageStore, boot: number): Outbox {
  return new Outbox({ store, capacity: 5000, boot, reportSlots: 4, log: () => undefined, onDropped: () => undefined });
}

function values(box: Outbox): number[] {
  const out: number[] = [];
  box.visit(0, (_key, value) => {
    out.push(value);
    return true;
  });
  return out;
}

test("a page written is read back; an erased or never-written slot reads as empty; no temporary file stays", () => {
  const dir = mkdtempSync(join(tmpdir(), "pages-"));
  try {
    const store = new FilePageStore(join(dir, "outbox"), { slots: 8, pageBytes: 64 });
    store.write(3, new Uint8Array([1, 2, 3]));
    assert.deepEqual(store.read(3), new Uint8Array([1, 2, 3]));
    assert.equal(store.read(4), undefined);
    store.write(3, new Uint8Array([9]));
    assert.deepEqual(store.read(3), new Uint8Array([9]));
    assert.deepEqual(readdirSync(join(dir, "outbox")), ["3.page"]);
    store.erase(3);
    store.erase(3);
    assert.equal(store.read(3), undefined);
    assert.throws(() => store.write(8, new Uint8Array(1)), RangeError);
    assert.throws(() => store.write(0, new Uint8Array(65)), RangeError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the outbox over page files: kept across reboots; a torn file and a crash's leftover temporary file change nothing else", () => {
  const dir = mkdtempSync(join(tmpdir(), "pages-"));
  try {
    const path = join(dir, "outbox");
    const first = outbox(new FilePageStore(path, { slots: 16, pageBytes: 256 }), 1);
    for (let n = 0; n < 60; n++) assert.ok(first.append("v", n, UTC + n, 0));
    first.flush();
    const files = readdirSync(path).sort();
    assert.ok(files.length >= 3);
    // A write torn on purpose: the open page's next copy lands in part, then the power goes.
    const tearing = new TearingPageStore(new FilePageStore(path, { slots: 16, pageBytes: 256 }));
    const second = outbox(tearing, 2);
    assert.deepEqual(values(second), [...Array(60).keys()]);
    second.append("v", 60, UTC + 60, 0);
    tearing.tearNext = { keep: 30 };
    second.flush();
    assert.equal(tearing.torn, 1);
    writeFileSync(join(path, "5.page.tmp"), "half a page");
    const third = outbox(new FilePageStore(path, { slots: 16, pageBytes: 256 }), 3);
    assert.deepEqual(values(third), [...Array(60).keys()], "the torn copy is skipped, the earlier one read");
    assert.equal(third.counters.pagesSkipped, 1);
    third.clear();
    assert.deepEqual(
      readdirSync(path).filter((f) => f.endsWith(".page")),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("npm run device takes --persist-after, --outbox-size and --hold-unstamped, with the one duration grammar", () => {
  const cli = fileURLToPath(new URL("../../host/device-cli.js", import.meta.url));
  const help = spawnSync(process.execPath, [cli, "--help"], { encoding: "utf8" });
  assert.equal(help.status, 0);
  for (const flag of ["--persist-after", "--outbox-size", "--hold-unstamped"])
    assert.ok(help.stdout.includes(flag), flag);
  const state = mkdtempSync(join(tmpdir(), "cli-"));
  try {
    const bad = spawnSync(process.execPath, [cli, "--state", state, "--persist-after", "soon"], { encoding: "utf8" });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /config persistAfter: "soon" is not a duration/);
    const outbox = spawnSync(process.execPath, [cli, "--state", state, "--outbox-size", "lots"], { encoding: "utf8" });
    assert.equal(outbox.status, 2);
    assert.match(outbox.stderr, /config outboxSize/);
    assert.ok(!existsSync(join(state, "outbox")) || readdirSync(join(state, "outbox")).length === 0);
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
});
