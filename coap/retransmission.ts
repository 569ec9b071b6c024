// The retransmission schedule of one Confirmable message (RFC 7252 §4.2): an initial timeout
// random in [ACK_TIMEOUT, ACK_TIMEOUT × ACK_RANDOM_FACTOR), doubled after every
// retransmission, at most MAX_RETRANSMIT retransmissions, then one last doubled wait for the
// ACK. With the defaults the whole exchange gives up after at most MAX_TRANSMIT_WAIT (93 s).

import type { RandomSource } from "../kernel/random.js";
import type { TransmissionParameters } from "./parameters.js";

/** §4.2: the random initial timeout, whole milliseconds. */
export function initialTimeoutMs(parameters: TransmissionParameters, random: RandomSource): number {
  const span = parameters.ackTimeoutMs * (parameters.ackRandomFactor - 1);
  return Math.floor(parameters.ackTimeoutMs + random.next() * span);
}

export class RetransmissionSchedule {
  #timeoutMs: number;
  #retransmissions = 0;
  readonly #maxRetransmit: number;

  /** `maxRetransmit` below MAX_RETRANSMIT shortens this exchange only (an owner that retries on its own). */
  constructor(
    parameters: TransmissionParameters,
    random: RandomSource,
    maxRetransmit: number = parameters.maxRetransmit,
  ) {
    this.#timeoutMs = initialTimeoutMs(parameters, random);
    this.#maxRetransmit = Math.min(maxRetransmit, parameters.maxRetransmit);
  }

  /** How long to wait for the ACK from the transmission just made. */
  get timeoutMs(): number {
    return this.#timeoutMs;
  }

  get retransmissions(): number {
    return this.#retransmissions;
  }

  /**
   * The wait ran out: true means retransmit now and wait `timeoutMs` (doubled) again; false
   * means MAX_RETRANSMIT is spent and the exchange has timed out.
   */
  expire(): boolean {
    if (this.#retransmissions >= this.#maxRetransmit) return false;
    this.#retransmissions++;
    this.#timeoutMs *= 2;
    return true;
  }
}
