// RFC 7252 §4.8 transmission parameters and the values §4.8.2 derives from them. An endpoint
// with overrides gets its own frozen copy, so one device can talk to a slow link with longer
// timeouts without touching any other endpoint; the others share the frozen defaults.

/** The settable parameters of RFC 7252 §4.8.1, in milliseconds where they are times. */
export interface TransmissionSettings {
  /** ACK_TIMEOUT: the initial retransmission timeout's lower bound (2 s). */
  readonly ackTimeoutMs: number;
  /** ACK_RANDOM_FACTOR: the initial timeout is random in [ACK_TIMEOUT, ACK_TIMEOUT × this] (1.5). */
  readonly ackRandomFactor: number;
  /** MAX_RETRANSMIT: retransmissions of one Confirmable message before giving up (4). */
  readonly maxRetransmit: number;
  /** NSTART: outstanding interactions with the server at once (1, §4.7). */
  readonly nstart: number;
  /** DEFAULT_LEISURE (5 s): multicast only, kept for completeness. */
  readonly defaultLeisureMs: number;
  /** PROBING_RATE in bytes per second (1) toward a server that does not answer (§4.7). */
  readonly probingRate: number;
  /** MAX_LATENCY: the longest a datagram is assumed to travel (100 s, §4.8.2). */
  readonly maxLatencyMs: number;
  /** PROCESSING_DELAY: the server's turnaround for an ACK (ACK_TIMEOUT by default, §4.8.2). */
  readonly processingDelayMs: number;
}

/** The settings plus the derived times of RFC 7252 §4.8.2. */
export interface TransmissionParameters extends TransmissionSettings {
  /** MAX_TRANSMIT_SPAN = ACK_TIMEOUT × (2^MAX_RETRANSMIT − 1) × ACK_RANDOM_FACTOR (45 s). */
  readonly maxTransmitSpanMs: number;
  /** MAX_TRANSMIT_WAIT = ACK_TIMEOUT × (2^(MAX_RETRANSMIT + 1) − 1) × ACK_RANDOM_FACTOR (93 s). */
  readonly maxTransmitWaitMs: number;
  /** MAX_RTT = 2 × MAX_LATENCY + PROCESSING_DELAY (202 s). */
  readonly maxRttMs: number;
  /** EXCHANGE_LIFETIME = MAX_TRANSMIT_SPAN + 2 × MAX_LATENCY + PROCESSING_DELAY (247 s). */
  readonly exchangeLifetimeMs: number;
  /** NON_LIFETIME = MAX_TRANSMIT_SPAN + MAX_LATENCY (145 s). */
  readonly nonLifetimeMs: number;
}

export const DEFAULT_TRANSMISSION_SETTINGS: TransmissionSettings = Object.freeze({
  ackTimeoutMs: 2000,
  ackRandomFactor: 1.5,
  maxRetransmit: 4,
  nstart: 1,
  defaultLeisureMs: 5000,
  probingRate: 1,
  maxLatencyMs: 100_000,
  processingDelayMs: 2000,
});

function check(name: string, value: number, valid: boolean): void {
  if (typeof value !== "number" || !Number.isFinite(value) || !valid) {
    throw new RangeError(`transmission parameter ${name} out of range: ${value}`);
  }
}

/**
 * The defaults with `overrides` applied, validated, with the derived values computed, frozen.
 * PROCESSING_DELAY follows ACK_TIMEOUT unless it is given itself (§4.8.2: "we use ACK_TIMEOUT").
 * Throws RangeError for a value that would break the protocol (e.g. ACK_RANDOM_FACTOR < 1).
 */
export function transmissionParameters(overrides: Partial<TransmissionSettings> = {}): TransmissionParameters {
  return Object.keys(overrides).length === 0 ? DEFAULT_TRANSMISSION_PARAMETERS : derive(overrides);
}

function derive(overrides: Partial<TransmissionSettings>): TransmissionParameters {
  const base = DEFAULT_TRANSMISSION_SETTINGS;
  const ackTimeoutMs = overrides.ackTimeoutMs ?? base.ackTimeoutMs;
  const s: TransmissionSettings = {
    ackTimeoutMs,
    ackRandomFactor: overrides.ackRandomFactor ?? base.ackRandomFactor,
    maxRetransmit: overrides.maxRetransmit ?? base.maxRetransmit,
    nstart: overrides.nstart ?? base.nstart,
    defaultLeisureMs: overrides.defaultLeisureMs ?? base.defaultLeisureMs,
    probingRate: overrides.probingRate ?? base.probingRate,
    maxLatencyMs: overrides.maxLatencyMs ?? base.maxLatencyMs,
    processingDelayMs: overrides.processingDelayMs ?? ackTimeoutMs,
  };
  check("ackTimeoutMs", s.ackTimeoutMs, s.ackTimeoutMs > 0);
  // §4.8: ACK_RANDOM_FACTOR MUST NOT be below 1.0.
  check("ackRandomFactor", s.ackRandomFactor, s.ackRandomFactor >= 1);
  check(
    "maxRetransmit",
    s.maxRetransmit,
    Number.isInteger(s.maxRetransmit) && s.maxRetransmit >= 0 && s.maxRetransmit <= 20,
  );
  check("nstart", s.nstart, Number.isInteger(s.nstart) && s.nstart >= 1);
  check("defaultLeisureMs", s.defaultLeisureMs, s.defaultLeisureMs >= 0);
  check("probingRate", s.probingRate, s.probingRate > 0);
  check("maxLatencyMs", s.maxLatencyMs, s.maxLatencyMs >= 0);
  check("processingDelayMs", s.processingDelayMs, s.processingDelayMs >= 0);

  const maxTransmitSpanMs = s.ackTimeoutMs * (2 ** s.maxRetransmit - 1) * s.ackRandomFactor;
  const maxTransmitWaitMs = s.ackTimeoutMs * (2 ** (s.maxRetransmit + 1) - 1) * s.ackRandomFactor;
  return Object.freeze({
    ...s,
    maxTransmitSpanMs,
    maxTransmitWaitMs,
    maxRttMs: 2 * s.maxLatencyMs + s.processingDelayMs,
    exchangeLifetimeMs: maxTransmitSpanMs + 2 * s.maxLatencyMs + s.processingDelayMs,
    nonLifetimeMs: maxTransmitSpanMs + s.maxLatencyMs,
  });
}

/**
 * The defaults, derived values included: what every endpoint without overrides shares, made once
 * when the module loads (in flash on the board, where a copy per endpoint would take 14 slots).
 */
export const DEFAULT_TRANSMISSION_PARAMETERS: TransmissionParameters = derive({});
