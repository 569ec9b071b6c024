// The endpoint's counters: what went over the wire and every reason a datagram was not
// delivered, so that a device in the field can report why it is unhappy.

export interface EndpointStats {
  /** Datagrams handed to the port (first transmissions, retransmissions, ACKs, RSTs, pings). */
  readonly datagramsSent: number;
  /** Retransmissions of a Confirmable message (RFC 7252 §4.2). */
  readonly retransmissions: number;
  /** Datagrams received from anywhere. */
  readonly datagramsReceived: number;
  /** Requests put on the wire (each block and re-registration counts; retransmissions do not). */
  readonly requestsSent: number;
  /** Responses matched to a request (piggybacked, separate or NON). */
  readonly responses: number;
  /** Messages from the server seen again within their lifetime, answered as before (§4.5). */
  readonly duplicates: number;
  /** Datagrams the codec rejected. */
  readonly droppedMalformed: number;
  /** Well-formed messages from the server that matched nothing (late ACKs, unknown tokens …). */
  readonly droppedUnmatched: number;
  /** Datagrams from an address other than the server's. */
  readonly droppedForeign: number;
  /** Responses rejected for an unrecognised critical option (§5.4.1). */
  readonly rejectedCritical: number;
  readonly acksSent: number;
  readonly rstSent: number;
  /** RSTs received that ended an exchange. */
  readonly resetsReceived: number;
  /** Exchanges that timed out (no ACK, or no separate / NON response in time). */
  readonly timeouts: number;
  readonly cancelled: number;
  /** Requests refused because the queue was full. */
  readonly queueFull: number;
  /** The port threw on send (counted as a lost datagram). */
  readonly sendErrors: number;
  /** Fresh notifications delivered (RFC 7641). */
  readonly notifications: number;
  /**
   * Notifications older than one already delivered (RFC 7641 §3.4): dropped, or delivered with
   * ObserveOptions.deliverReordered.
   */
  readonly staleNotifications: number;
  /** Registrations sent (first ones and re-registrations). */
  readonly observeRegistrations: number;
  /** Re-registrations after a loss or on demand. */
  readonly observeReregistrations: number;
  /** Observations declared lost (silence, error, timeout, reset). */
  readonly observeLost: number;
  /** Block2 follow-up requests (RFC 7959). */
  readonly blockRequests: number;
  /** CoAP pings sent (§4.3) and those that got no answer. */
  readonly pings: number;
  readonly pingTimeouts: number;
}

/** Each counter's index in StatsCounters, in the order of EndpointStats. */
export const Stat = Object.freeze({
  datagramsSent: 0,
  retransmissions: 1,
  datagramsReceived: 2,
  requestsSent: 3,
  responses: 4,
  duplicates: 5,
  droppedMalformed: 6,
  droppedUnmatched: 7,
  droppedForeign: 8,
  rejectedCritical: 9,
  acksSent: 10,
  rstSent: 11,
  resetsReceived: 12,
  timeouts: 13,
  cancelled: 14,
  queueFull: 15,
  sendErrors: 16,
  notifications: 17,
  staleNotifications: 18,
  observeRegistrations: 19,
  observeReregistrations: 20,
  observeLost: 21,
  blockRequests: 22,
  pings: 23,
  pingTimeouts: 24,
});

const NAMES = Object.freeze(Object.keys(Stat) as (keyof EndpointStats)[]);

/**
 * The live counters, indexed by Stat: one typed array rather than an object of 25 properties
 * (220 bytes on the ESP32 instead of 416). 32 bits each: at ten datagrams a second the busiest
 * counter wraps after thirteen years.
 */
export type StatsCounters = Uint32Array;

export function newStats(): StatsCounters {
  return new Uint32Array(NAMES.length);
}

/** The counters as the frozen object CoapEndpoint.stats gives out. */
export function statsSnapshot(counters: StatsCounters): EndpointStats {
  const snapshot: { -readonly [K in keyof EndpointStats]?: number } = {};
  NAMES.forEach((name, index) => {
    snapshot[name] = counters[index]!;
  });
  return Object.freeze(snapshot as EndpointStats);
}
