// RandomSource over Math.random. On the ESP32, XS draws Math.random from esp_random(), the
// hardware generator (truly random while the radio is on, as it is for any CoAP traffic); in the
// simulator it is the C library's rand(), good enough for testing.
import type { RandomSource } from "../coap/ports.js";

export class ModdableRandom implements RandomSource {
  next(): number {
    return Math.random();
  }

  fill(target: Uint8Array): void {
    for (let i = 0; i < target.length; i++) target[i] = Math.floor(Math.random() * 256);
  }
}
