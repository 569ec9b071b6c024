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

export type StatsCounters = { -readonly [K in keyof EndpointStats]: number };

export function newStats(): StatsCounters {
  return {
    datagramsSent: 0,
    retransmissions: 0,
    datagramsReceived: 0,
    requestsSent: 0,
    responses: 0,
    duplicates: 0,
    droppedMalformed: 0,
    droppedUnmatched: 0,
    droppedForeign: 0,
    rejectedCritical: 0,
    acksSent: 0,
    rstSent: 0,
    resetsReceived: 0,
    timeouts: 0,
    cancelled: 0,
    queueFull: 0,
    sendErrors: 0,
    notifications: 0,
    staleNotifications: 0,
    observeRegistrations: 0,
    observeReregistrations: 0,
    observeLost: 0,
    blockRequests: 0,
    pings: 0,
    pingTimeouts: 0,
  };
}
