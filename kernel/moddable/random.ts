// RandomSource over Math.random. On the ESP32, XS draws Math.random from esp_random(), the
// hardware generator (truly random while the radio is on, as it is for any CoAP traffic). In the
// simulator it is the C library's rand(), which XS never seeds: each launch would repeat the
// same message IDs and tokens, so a stream seeded from the launch time is mixed in
// (kernel/random-mix.ts). That seed is guessable; the simulator is for testing, the board's
// generator is the one that matters.
import Time from "time";
import { MixedRandom } from "../random-mix.js";

export class ModdableRandom extends MixedRandom {
  constructor() {
    // Date.now() tells launches apart; the ticks add the time since the host started XS.
    super({ next: () => Math.random() }, Date.now() * 1000 + (Time.ticks >>> 0));
  }
}
