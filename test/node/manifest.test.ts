// manifest.json against the code it builds: its config defaults are device/config.ts's, every
// target's config parses, and every module it maps exists. (The mcconfig build itself needs the
// Moddable SDK; moddable/README.md says how it was run.)
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_SETTINGS, parseDeviceConfig } from "../../device/config.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));

interface ManifestSection {
  readonly config?: Record<string, unknown>;
  readonly modules?: Record<string, string | string[]>;
  readonly include?: string | string[];
  readonly error?: string;
}

interface Manifest extends ManifestSection {
  readonly platforms: Record<string, ManifestSection>;
}

const manifest = JSON.parse(readFileSync(join(root, "manifest.json"), "utf8")) as Manifest;
const targets = ["esp32", "lin", "mac", "win"] as const;

/** A local module path ("./coap/*", "./moddable/board-io-sim") exists as .ts files. */
function assertLocalModule(path: string, where: string): void {
  assert.ok(path.startsWith("./"), `${where}: ${path} is local`);
  const relative = path.slice(2);
  if (relative.endsWith("/*")) {
    assert.ok(existsSync(join(root, relative.slice(0, -2))), `${where}: folder ${relative} exists`);
  } else {
    assert.ok(existsSync(join(root, `${relative}.ts`)), `${where}: ${relative}.ts exists`);
  }
}

function localModules(section: ManifestSection, where: string): void {
  for (const [specifier, value] of Object.entries(section.modules ?? {})) {
    for (const path of Array.isArray(value) ? value : [value]) {
      if (!path.startsWith("$(")) assertLocalModule(path, `${where} ${specifier}`);
    }
  }
}

test("the manifest's config defaults are DEFAULT_SETTINGS, key for key", () => {
  assert.deepEqual(manifest.config, { ...DEFAULT_SETTINGS });
});

test("every target's config (defaults + its overrides) parses", () => {
  for (const target of targets) {
    const section = manifest.platforms[target];
    assert.ok(section !== undefined, `a ${target} section`);
    const config = parseDeviceConfig({ ...manifest.config, ...section.config });
    assert.ok(config.sensors.length > 0, `${target} has sensors by default`);
    assert.ok(config.actuators.length > 0, `${target} has an actuator by default`);
  }
});

test("simulators get simulated sensors only; the board gets real ones", () => {
  for (const target of ["lin", "mac", "win"] as const) {
    const config = parseDeviceConfig({ ...manifest.config, ...manifest.platforms[target]!.config });
    assert.deepEqual(config.sensors.map((spec) => spec.kind).filter((kind) => !kind.startsWith("sim")), [], target);
  }
  const board = parseDeviceConfig({ ...manifest.config, ...manifest.platforms.esp32!.config });
  assert.ok(board.sensors.some((spec) => spec.kind === "sht3x"), "esp32 defaults to the SHT3x");
});

test("the board's defaults leave their pins to the board: led:digital and sht3x name none", () => {
  const esp32 = { ...manifest.config, ...manifest.platforms.esp32!.config };
  assert.equal(esp32.actuators, "led:digital");
  assert.equal(esp32.sensors, "sht3x");
  const described = parseDeviceConfig(esp32, { ledPin: 13, i2c: { sda: 23, scl: 22 } });
  assert.deepEqual(described.actuators.map((spec) => spec.pin), [13], "the board's LED");
  assert.deepEqual(described.sensors.map((spec) => (spec.kind === "sht3x" ? [spec.sda, spec.scl] : [])), [[23, 22]], "the board's I2C");
  const generic = parseDeviceConfig(esp32);
  assert.deepEqual(generic.actuators.map((spec) => spec.pin), [2], "a board that names no LED: GPIO 2, as before");
  assert.deepEqual(generic.sensors.map((spec) => (spec.kind === "sht3x" ? [spec.sda, spec.scl] : [])), [[21, 22]], "and I2C 21/22");
});

test("every local module the manifest maps exists; each target picks its own board IO and network", () => {
  localModules(manifest, "modules");
  for (const target of targets) {
    const section = manifest.platforms[target]!;
    localModules(section, target);
    const modules = section.modules ?? {};
    const suffix = target === "esp32" ? "esp32" : "sim";
    assert.equal(modules["moddable/board-io"], `./moddable/board-io-${suffix}`, `${target} board IO`);
    assert.equal(modules["moddable/network"], `./moddable/network-${suffix}`, `${target} network`);
    const other = target === "esp32" ? "sim" : "esp32";
    // The board replaces the SDK's setup/network, which would hold main back until Wi-Fi and SNTP
    // answered and never retry a failed first join (moddable/esp32/setup-network.ts).
    const replaced = target === "esp32" ? ["$(BUILD)/devices/esp32/setup/network"] : [];
    assert.deepEqual(modules["~"], [...replaced, `./moddable/board-io-${other}`, `./moddable/network-${other}`], `${target} leaves out the other target's files`);
    assert.equal(modules["setup/network"], target === "esp32" ? "./moddable/esp32/setup-network" : undefined, `${target} setup/network`);
  }
  assert.equal(typeof manifest.platforms["..."]?.error, "string", "other platforms stop with an error");
});

test("the SDK pieces the notes call for are included", () => {
  const includes = manifest.include;
  assert.ok(Array.isArray(includes));
  for (const path of [
    "$(MODDABLE)/examples/manifest_base.json",
    "$(MODDABLE)/examples/manifest_net.json",
    "$(MODDABLE)/modules/io/manifest.json",
    "$(MODDABLE)/modules/files/preference/manifest.json",
  ]) {
    assert.ok(includes.includes(path), path);
  }
  assert.deepEqual(manifest.platforms.esp32!.include, ["$(MODDABLE)/modules/drivers/sensors/sht3x/manifest.json"]);
});
