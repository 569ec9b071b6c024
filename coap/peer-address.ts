// Comparing a datagram's source with the server's address (RFC 7252 §5.3.2: a response must
// come from the endpoint the request went to).

/** Where a datagram came from or goes to. */
export interface PeerAddress {
  readonly address: string;
  readonly port: number;
}

const MAPPED_V4_PREFIX = "::ffff:";

/** The address in the form used for comparison: lowercase, IPv4-mapped IPv6 as plain IPv4. */
export function canonicalAddress(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith(MAPPED_V4_PREFIX) && lower.indexOf(".") > 0) return lower.slice(MAPPED_V4_PREFIX.length);
  return lower;
}

export function samePeer(a: PeerAddress, b: PeerAddress): boolean {
  return a.port === b.port && canonicalAddress(a.address) === canonicalAddress(b.address);
}

export function describePeer(peer: PeerAddress): string {
  return peer.address.indexOf(":") >= 0 ? `[${peer.address}]:${peer.port}` : `${peer.address}:${peer.port}`;
}
