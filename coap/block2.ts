// Reassembly of a response body sent block-wise (RFC 7959 §2.2, §2.4). Pure: it is fed the
// blocks as they come and says what to ask for next; it never sends anything itself.
import { type BlockValue, blockSize, MAX_BLOCK_NUM } from "./options.js";
import { tokenKey } from "./tokens.js";

export type Block2Step =
  | { readonly kind: "complete"; readonly body: Uint8Array }
  | { readonly kind: "next"; readonly block: BlockValue }
  | { readonly kind: "failed"; readonly error: "too-large" | "block-transfer"; readonly reason: string };

export interface Block2Settings {
  /** The largest body accepted (the reassembly buffer's bound). */
  readonly maxBodySize: number;
  /** Ask for blocks no larger than this SZX (block size 2^(szx+4)); undefined: the server's choice. */
  readonly preferredSzx: number | undefined;
  /** How often an ETag change may restart the transfer before it is given up (default 2). */
  readonly maxRestarts?: number;
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const body = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.length;
  }
  return body;
}

export class Block2Assembly {
  readonly #maxBodySize: number;
  readonly #preferredSzx: number | undefined;
  readonly #maxRestarts: number;
  /** Bound: their total length stays within maxBodySize. */
  #chunks: Uint8Array[] = [];
  #received = 0;
  #etag: string | undefined;
  #restarts = 0;

  constructor(settings: Block2Settings) {
    this.#maxBodySize = settings.maxBodySize;
    this.#preferredSzx = settings.preferredSzx;
    this.#maxRestarts = settings.maxRestarts ?? 2;
  }

  /** Body bytes received so far. */
  get received(): number {
    return this.#received;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /**
   * Feeds the response to the block last asked for (the first response included): its Block2
   * value (undefined if it has none), payload, ETag and Size2. The payload is copied.
   */
  accept(
    block: BlockValue | undefined,
    payload: Uint8Array,
    etag: Uint8Array | undefined,
    size2: number | undefined,
  ): Block2Step {
    if (size2 !== undefined && size2 > this.#maxBodySize) {
      return {
        kind: "failed",
        error: "too-large",
        reason: `Size2 announces ${size2} bytes, more than ${this.#maxBodySize}`,
      };
    }
    if (block === undefined) {
      // A server may ignore early negotiation and send the whole body (§2.4); mid-transfer that is a break.
      if (this.#received > 0 || this.#etag !== undefined)
        return { kind: "failed", error: "block-transfer", reason: "a block response without Block2" };
      return this.#append(payload, false) ?? { kind: "complete", body: payload.slice() };
    }
    // SZX 7 is BERT (RFC 8323), which does not exist over UDP.
    if (block.szx > 6) return { kind: "failed", error: "block-transfer", reason: "reserved SZX 7" };
    const key = etag === undefined ? "" : tokenKey(etag);
    if (this.#etag !== undefined && key !== this.#etag) {
      // The representation changed under the transfer (§2.4): the blocks do not fit together.
      if (this.#restarts >= this.#maxRestarts) {
        return {
          kind: "failed",
          error: "block-transfer",
          reason: `the ETag changed ${this.#restarts + 1} times during the transfer`,
        };
      }
      this.#restarts++;
      this.#chunks = [];
      this.#received = 0;
      this.#etag = undefined;
      if (block.num !== 0) return { kind: "next", block: { num: 0, more: false, szx: this.#nextSzx(block.szx) } };
    }
    this.#etag ??= key;
    const size = blockSize(block.szx);
    const offset = block.num * size;
    if (offset !== this.#received) {
      return {
        kind: "failed",
        error: "block-transfer",
        reason: `block ${block.num} (offset ${offset}) does not continue at offset ${this.#received}`,
      };
    }
    // §2.2: every block but the last is exactly the block size.
    if (block.more ? payload.length !== size : payload.length > size) {
      return {
        kind: "failed",
        error: "block-transfer",
        reason: `block ${block.num} has ${payload.length} bytes for size ${size}`,
      };
    }
    const failed = this.#append(payload, true);
    if (failed !== undefined) return failed;
    if (!block.more) {
      const body = concat(this.#chunks, this.#received);
      this.#chunks = [body];
      return { kind: "complete", body };
    }
    const szx = this.#nextSzx(block.szx);
    const num = this.#received / blockSize(szx);
    if (num > MAX_BLOCK_NUM) return { kind: "failed", error: "too-large", reason: "past the last block number" };
    return { kind: "next", block: { num, more: false, szx } };
  }

  /** §2.4: the client may ask for smaller blocks than the server sent, never larger. */
  #nextSzx(serverSzx: number): number {
    return this.#preferredSzx === undefined ? serverSzx : Math.min(serverSzx, this.#preferredSzx);
  }

  #append(payload: Uint8Array, keep: boolean): Block2Step | undefined {
    if (this.#received + payload.length > this.#maxBodySize) {
      return { kind: "failed", error: "too-large", reason: `the body exceeds ${this.#maxBodySize} bytes` };
    }
    if (keep) {
      this.#chunks.push(payload.slice());
      this.#received += payload.length;
    }
    return undefined;
  }
}
