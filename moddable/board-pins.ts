// The board's own pins, from the Moddable SDK's host provider: the object modules/io/system
// publishes as globalThis.device, built from build/devices/esp32/targets/<board>/host/provider.js
// (`pin.led`, `pin.button`, `I2C.default.data` and `.clock`). So `mcconfig -p esp32/nodemcu` drives the LED
// the board has, and an SHT3x sits on the board's I2C pins. The generic `-p esp32` provider has
// `pin: {}` and no I2C default, and the simulator has no provider at all: then nothing is
// returned and the device's fallbacks apply (device/io-specs.ts).
import { type BoardPins, MAX_PIN } from "../device/io-specs.js";

/** An own data property of an object, without running getters; undefined for anything else. */
function field(holder: unknown, name: string): unknown {
  if (typeof holder !== "object" || holder === null) return undefined;
  const descriptor = Object.getOwnPropertyDescriptor(holder, name);
  return descriptor === undefined ? undefined : descriptor.value;
}

function gpio(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= MAX_PIN ? value : undefined;
}

/**
 * The pins `provider` (normally globalThis.device) names, each checked: a missing object, a
 * missing field or a value that is no GPIO number leaves that pin to the fallback. I2C counts
 * only as a pair of two different pins.
 */
export function readBoardPins(provider: unknown): BoardPins {
  const ledPin = gpio(field(field(provider, "pin"), "led"));
  const buttonPin = gpio(field(field(provider, "pin"), "button"));
  const i2c = field(field(provider, "I2C"), "default");
  const sda = gpio(field(i2c, "data"));
  const scl = gpio(field(i2c, "clock"));
  return Object.freeze({
    ...(ledPin === undefined ? {} : { ledPin }),
    ...(buttonPin === undefined ? {} : { buttonPin }),
    ...(sda === undefined || scl === undefined || sda === scl ? {} : { i2c: Object.freeze({ sda, scl }) }),
  });
}
