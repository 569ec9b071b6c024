// One observation (RFC 7641) as node-coap 1.5 holds it: an ObserveWriteStream. This is the one
// module that reaches into node-coap's internals, for three things its public surface lacks:
// - Message type per notification. After the first notification node-coap sends those of a NON
//   registration with the ACK type (it sets `ack` to "request was NON"); and a server should send
//   some notifications as CON to learn whether a NON client is still there (RFC 7641 §4.5).
// - An error reply to a refused registration without the Observe option (RFC 7641 §4.2):
//   `write()` always adds one.
// - The end of the observation, which node-coap signals by ending the stream when the client
//   sends RST or when it gives up retransmitting an unacknowledged CON notification.
import type { ObserveWriteStream } from "coap";

export class Observation {
  readonly #stream: ObserveWriteStream;
  #ended = false;

  /** `onEnd` runs once, when the client is gone or the stream failed; not after `close()`. */
  constructor(stream: ObserveWriteStream, onEnd: (reason: string) => void) {
    this.#stream = stream;
    const end = (reason: string): void => {
      if (this.#ended) return;
      this.#ended = true;
      onEnd(reason);
    };
    stream.on("finish", () => end("client gone (RST, or no ACK to a CON notification)"));
    stream.on("error", (err: Error) => end(`send failed: ${err.message}`));
  }

  /** node-coap's stream, by which an ACK is matched to this observation. */
  get stream(): ObserveWriteStream {
    return this.#stream;
  }

  /** Sends a 2.05 notification with a JSON payload, CON or NON. */
  notify(payload: Buffer, confirmable: boolean): void {
    if (this.#ended) return;
    const stream = this.#stream;
    stream.statusCode = "2.05";
    stream.setOption("Content-Format", "application/json");
    // The first notification answers the registration (piggybacked on its ACK if it was CON), so
    // node-coap's choice stands; the later ones get the type asked for.
    if (stream._counter > 0) {
      stream._packet.confirmable = confirmable;
      stream._packet.ack = false;
    }
    stream.write(payload);
  }

  /** Ends the observation from this side; nothing more is sent. */
  close(): void {
    if (this.#ended) return;
    this.#ended = true;
    // With a notification already sent, ending the stream sends nothing.
    this.#stream.end();
  }
}

/**
 * Refuses a registration: one reply with `code` and a JSON body, no Observe option. The stream is
 * left unended on purpose: ending a stream that has sent nothing through `write()` makes node-coap
 * send a second, empty reply.
 */
export function refuseObservation(stream: ObserveWriteStream, code: string, payload: Buffer): void {
  stream.statusCode = code;
  stream.setOption("Content-Format", "application/json");
  stream._doSend(payload);
}
