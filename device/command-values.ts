// How a command value from the platform becomes an output level. A dashboard widget, a rule or
// a REST call may send the same command in several forms, so each form that means one thing is
// accepted, and anything else is refused (undefined) rather than guessed.

/**
 * The longest command text taken: every real form ("off", "0.35", " 50 % ") is far shorter, and a
 * hostile value padded with thousands of blanks or zeros is refused before it is trimmed or parsed.
 */
export const MAX_COMMAND_TEXT = 32;

/** 1/0, true/false, "1"/"0", "on"/"off", "true"/"false" (any case, surrounding blanks ignored). */
export function parseDigitalLevel(value: unknown): 0 | 1 | undefined {
  if (value === 1 || value === true) return 1;
  if (value === 0 || value === false) return 0;
  if (typeof value !== "string" || value.length > MAX_COMMAND_TEXT) return undefined;
  switch (value.trim().toLowerCase()) {
    case "1":
    case "on":
    case "true":
      return 1;
    case "0":
    case "off":
    case "false":
      return 0;
    default:
      return undefined;
  }
}

/**
 * How a bare PWM number is read.
 * - "auto" (default): a number in [0, 1] is a fraction, a number in (1, 100] a percentage. So
 *   1 means full duty (100 %), not 1 %: a dashboard slider 0–100 never sends 1 for "on", while
 *   a 0–1 control does. To ask for 1 %, send "1%" or 0.01.
 * - "fraction": always [0, 1].
 * - "percent": always [0, 100] (so 1 is 1 %).
 * A string ending in "%" is a percentage in every mode.
 */
export type PwmScale = "auto" | "fraction" | "percent";

/** The duty cycle in [0, 1] for a number or a numeric string ("50", "0.5", "50%"), else undefined. */
export function parsePwmDuty(value: unknown, scale: PwmScale = "auto"): number | undefined {
  let amount: number;
  let percent = scale === "percent";
  if (typeof value === "number") amount = value;
  else if (typeof value === "string") {
    if (value.length > MAX_COMMAND_TEXT) return undefined;
    let text = value.trim();
    if (text.endsWith("%")) {
      percent = true;
      text = text.slice(0, -1).trim();
    }
    if (!/^\+?(\d+(\.\d*)?|\.\d+)$/.test(text)) return undefined;
    amount = Number(text);
  } else return undefined;
  if (!Number.isFinite(amount) || amount < 0) return undefined;
  if (!percent && scale === "auto" && amount > 1) percent = true;
  // `+ 0` turns -0 into 0.
  const duty = (percent ? amount / 100 : amount) + 0;
  return duty <= 1 ? duty : undefined;
}
