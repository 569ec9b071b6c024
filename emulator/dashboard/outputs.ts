// The outputs a device declares: the `outputs` field of its latest `device.boot` value, e.g.
// {"firmware":"0.1.0","reset":"power-on","outputs":"led:digital,fan:pwm"}. Only a declaration is
// trusted: guessing from values would give humidity a slider and telemetry.dropped a switch.

export type OutputKind = "digital" | "pwm";

export interface Output {
  readonly key: string;
  readonly kind: OutputKind;
}

/** The key that carries the declaration. */
export const BOOT_KEY = "device.boot";
/** More outputs than any board has; entries past it are ignored. */
export const MAX_OUTPUTS = 32;

const KEY = /^[A-Za-z0-9._-]+$/;

/** The outputs in a device.boot value's JSON text; malformed entries are left out. */
export function parseOutputs(bootJson: string): Output[] {
  let boot: unknown;
  try {
    boot = JSON.parse(bootJson);
  } catch {
    return [];
  }
  if (typeof boot !== "object" || boot === null || Array.isArray(boot)) return [];
  const declared = (boot as { outputs?: unknown }).outputs;
  if (typeof declared !== "string") return [];
  const outputs: Output[] = [];
  for (const entry of declared.split(",")) {
    const [key = "", kind = "", ...rest] = entry.trim().split(":");
    if (rest.length > 0 || !KEY.test(key) || (kind !== "digital" && kind !== "pwm")) continue;
    if (outputs.some((o) => o.key === key)) continue;
    outputs.push({ key, kind });
    if (outputs.length === MAX_OUTPUTS) break;
  }
  return outputs;
}
