// The manifests against the code they build: the app's config defaults are device/config.ts's,
// every target's config parses, every module they map exists, each folder's manifest packages
// its own folder and includes only the layer below, and the CoAP module and its example stay
// clear of the device. The manifests are read with their includes as mcconfig merges them
// (manifest-tree.ts). (The mcconfig build itself needs the Moddable SDK; moddable/README.md says
// how it was run.)
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_SETTINGS, parseDeviceConfig } from "../../device/config.js";
import { FIRMWARE_VERSION } from "../../device/firmware-version.js";
import {
  builtModules,
  folderModules,
  fromManifest,
  isSdkPath,
  listOf,
  type ManifestSection,
  manifestTree,
  readManifest,
  resolveManifest,
} from "./manifest-tree.js";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const targets = ["esp32", "lin", "mac", "win"] as const;

const defaults = resolveManifest(root, "manifest.json");
const resolved = Object.fromEntries(targets.map((target) => [target, resolveManifest(root, "manifest.json", target)]));

/** The core folders bottom up: each folder's manifest includes the one before it (and http's, for device). */
const LAYERS = ["kernel", "coap", "http", "thethings", "sensors", "device"] as const;

/** The local manifests each core folder's includes: the layer below, http beside coap on the kernel. */
const BELOW: Readonly<Record<(typeof LAYERS)[number], readonly string[]>> = {
  kernel: [],
  coap: ["../kernel/manifest.json"],
  http: ["../kernel/manifest.json"],
  thethings: ["../coap/manifest.json"],
  sensors: ["../thethings/manifest.json"],
  device: ["../sensors/manifest.json", "../http/manifest.json"],
};

/** A local module path ("./coap/*", "./moddable/board-io-sim"), repository-relative, exists as .ts files. */
function assertLocalModule(path: string, where: string): void {
  assert.ok(path.startsWith("./"), `${where}: ${path} is local`);
  const relative = path.slice(2);
  if (relative.endsWith("/*")) {
    assert.ok(existsSync(join(root, relative.slice(0, -2))), `${where}: folder ${relative} exists`);
  } else {
    assert.ok(existsSync(join(root, `${relative}.ts`)), `${where}: ${relative}.ts exists`);
  }
}

function localModules(manifestPath: string, section: ManifestSection, where: string): void {
  for (const [specifier, value] of Object.entries(section.modules ?? {})) {
    for (const path of listOf(value)) {
      if (!isSdkPath(path)) assertLocalModule(fromManifest(manifestPath, path), `${where} ${specifier}`);
    }
  }
}

test("the manifest's config defaults are DEFAULT_SETTINGS, key for key", () => {
  assert.deepEqual(defaults.config, { ...DEFAULT_SETTINGS });
});

test("every target's config (defaults + its overrides) parses", () => {
  for (const target of targets) {
    assert.deepEqual(resolved[target]!.errors, [], `${target} builds`);
    const config = parseDeviceConfig(resolved[target]!.config);
    assert.ok(config.sensors.length > 0, `${target} has sensors by default`);
    assert.ok(config.actuators.length > 0, `${target} has an actuator by default`);
  }
});

test("simulators get simulated sensors only; the board gets real ones", () => {
  for (const target of ["lin", "mac", "win"] as const) {
    const config = parseDeviceConfig(resolved[target]!.config);
    assert.deepEqual(
      config.sensors.map((spec) => spec.kind).filter((kind) => !kind.startsWith("sim")),
      [],
      target,
    );
  }
  const board = parseDeviceConfig(resolved.esp32!.config);
  assert.ok(
    board.sensors.some((spec) => spec.kind === "sht3x"),
    "esp32 defaults to the SHT3x",
  );
});

test("the board's defaults leave their pins to the board: led:digital and sht3x name none", () => {
  const esp32 = resolved.esp32!.config;
  assert.equal(esp32.actuators, "led:digital");
  assert.equal(esp32.sensors, "sht3x");
  const described = parseDeviceConfig(esp32, { ledPin: 13, i2c: { sda: 23, scl: 22 } });
  assert.deepEqual(
    described.actuators.map((spec) => spec.pin),
    [13],
    "the board's LED",
  );
  assert.deepEqual(
    described.sensors.map((spec) => (spec.kind === "sht3x" ? [spec.sda, spec.scl] : [])),
    [[23, 22]],
    "the board's I2C",
  );
  const generic = parseDeviceConfig(esp32);
  assert.deepEqual(
    generic.actuators.map((spec) => spec.pin),
    [2],
    "a board that names no LED: GPIO 2, as before",
  );
  assert.deepEqual(
    generic.sensors.map((spec) => (spec.kind === "sht3x" ? [spec.sda, spec.scl] : [])),
    [[21, 22]],
    "and I2C 21/22",
  );
});

test("every local module the manifests map exists; each target picks its own board IO and network", () => {
  for (const { path, manifest } of manifestTree(root, "manifest.json")) {
    localModules(path, manifest, `${path} modules`);
    for (const [target, section] of Object.entries(manifest.platforms ?? {}))
      localModules(path, section, `${path} ${target}`);
  }
  for (const target of targets) {
    const modules = resolved[target]!.modules;
    const suffix = target === "esp32" ? "esp32" : "sim";
    assert.deepEqual(modules["moddable/board-io"], [`./moddable/board-io-${suffix}`], `${target} board IO`);
    assert.deepEqual(modules["moddable/network"], [`./moddable/network-${suffix}`], `${target} network`);
    const other = target === "esp32" ? "sim" : "esp32";
    // The board replaces the SDK's setup/network, which would hold main back until Wi-Fi and SNTP
    // answered and never retry a failed first join (moddable/esp32/setup-network.ts).
    const replaced = target === "esp32" ? ["$(BUILD)/devices/esp32/setup/network"] : [];
    assert.deepEqual(
      modules["~"],
      [...replaced, `./moddable/board-io-${other}`, `./moddable/network-${other}`],
      `${target} leaves out the other target's files`,
    );
    assert.deepEqual(
      modules["setup/network"],
      target === "esp32" ? ["./moddable/esp32/setup-network"] : undefined,
      `${target} setup/network`,
    );
  }
  const other = resolveManifest(root, "manifest.json", "nrf52");
  assert.equal(typeof other.errors[0], "string", "other platforms stop with an error");
});

test("the three simulators share one included manifest; the board has its own", () => {
  for (const target of ["lin", "mac", "win"] as const) {
    assert.deepEqual(
      resolved[target]!.files.filter((file) => file.startsWith("moddable/")),
      ["moddable/manifest_simulator.json"],
      target,
    );
  }
  assert.deepEqual(
    resolved.esp32!.files.filter((file) => file.startsWith("moddable/")),
    ["moddable/manifest_esp32.json"],
  );
});

test("the SDK pieces the notes call for are included", () => {
  for (const path of [
    "$(MODDABLE)/examples/manifest_base.json",
    "$(MODDABLE)/examples/manifest_net.json",
    "$(MODDABLE)/modules/io/manifest.json",
    "$(MODDABLE)/modules/files/preference/manifest.json",
  ]) {
    assert.ok(defaults.sdkIncludes.includes(path), path);
  }
  const boardOnly = resolved.esp32!.sdkIncludes.filter((path) => !resolved.lin!.sdkIncludes.includes(path));
  // The classic wifi module: station, access point and scan for the setup portal on one driver.
  assert.deepEqual(boardOnly, [
    "$(MODDABLE)/modules/drivers/sensors/sht3x/manifest.json",
    "$(MODDABLE)/build/devices/esp32/modules/resetReason/manifest.json",
    "$(MODDABLE)/modules/network/wifi/manifest.json",
  ]);
});

test("each folder's manifest maps and preloads every .ts module of its folder, and only those", () => {
  for (const folder of LAYERS) {
    const path = `${folder}/manifest.json`;
    const manifest = readManifest(root, path);
    const own = Object.fromEntries(
      Object.entries(manifest.modules ?? {}).map(([specifier, value]) => [
        specifier,
        listOf(value).map((entry) => fromManifest(path, entry)),
      ]),
    );
    const built = builtModules(root, own);
    const files = [folder, `${folder}/moddable`]
      .filter((sub) => existsSync(join(root, sub)))
      .flatMap((sub) => folderModules(root, sub));
    assert.deepEqual([...built.keys()].sort(), [...files].sort(), `${path} maps its folder`);
    for (const [specifier, file] of built) assert.equal(specifier, file, `${path}: ${file} under its own name`);
    assert.deepEqual([...listOf(manifest.preload)].sort(), [...files].sort(), `${path} preloads its folder by name`);
  }
});

test("each folder's manifest includes the layer below it and nothing else local", () => {
  for (const folder of LAYERS) {
    const path = `${folder}/manifest.json`;
    const local = listOf(readManifest(root, path).include).filter((include) => !isSdkPath(include));
    assert.deepEqual(local, BELOW[folder], path);
  }
  for (const target of targets) {
    const layerFiles = resolved[target]!.files.filter((file) =>
      LAYERS.some((folder) => file === `${folder}/manifest.json`),
    );
    assert.deepEqual(
      layerFiles,
      ["kernel", "coap", "thethings", "sensors", "http", "device"].map((folder) => `${folder}/manifest.json`),
      `${target} merges the layers bottom up (http, included by device after sensors, beside coap)`,
    );
  }
});

test("coap/manifest.json with its includes maps nothing from device/, sensors/, thethings/ or moddable/", () => {
  for (const target of [undefined, ...targets]) {
    const coap = resolveManifest(root, "coap/manifest.json", target);
    assert.deepEqual(
      coap.files,
      ["kernel/manifest.json", "coap/manifest.json"],
      `${target ?? "base"} reads only the kernel's and its own`,
    );
    const local = Object.values(coap.modules)
      .flat()
      .filter((path) => !isSdkPath(path));
    assert.ok(local.length > 0);
    for (const path of local)
      assert.ok(path.startsWith("./kernel/") || path.startsWith("./coap/"), `${target ?? "base"}: ${path}`);
    for (const entry of coap.preload)
      assert.ok(entry.startsWith("kernel/") || entry.startsWith("coap/"), `${target ?? "base"} preloads ${entry}`);
    assert.deepEqual(coap.config, {}, "no device settings");
    for (const needed of ["$(MODDABLE)/modules/io/manifest.json", "$(MODDABLE)/modules/network/net/manifest.json"]) {
      assert.ok(coap.sdkIncludes.includes(needed), `the adapters' ${needed}`);
    }
  }
});

test("the CoAP example includes only the CoAP module and the SDK", () => {
  const path = "examples/coap-client/manifest.json";
  const local = listOf(readManifest(root, path).include).filter((include) => !isSdkPath(include));
  assert.deepEqual(local, ["../../coap/manifest.json"]);
  for (const target of ["esp32", "lin"] as const) {
    const example = resolveManifest(root, path, target);
    assert.deepEqual(example.files, ["kernel/manifest.json", "coap/manifest.json", path], target);
    assert.deepEqual(example.errors, [], target);
    const built = builtModules(root, example.modules);
    assert.equal(built.get("main"), "examples/coap-client/main", `${target} main`);
    for (const file of built.values())
      assert.ok(/^(kernel|coap|examples\/coap-client)\//.test(file), `${target} builds ${file}`);
  }
});

test("the firmware version the device reports is package.json's", () => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  assert.equal(FIRMWARE_VERSION, pkg.version);
});
