// One request as the application sees it: the first exchange, then, when the response comes
// block-wise, the follow-up requests for the remaining blocks (RFC 7959 §2.4), until the whole
// body is there, something fails, or it is cancelled. It ends exactly once.
import type { Block2Settings } from "./block2.js";
import { Block2Assembly, type Block2Step } from "./block2.js";
import { CoapRequestError, type CoapResponse } from "./client-api.js";
import { codeString, isSuccessCode } from "./codes.js";
import { type DecodedMessage, EMPTY_BYTES, optionBytes, optionUint } from "./message.js";
import { type BlockValue, decodeBlock, OptionNumber } from "./options.js";
import type { Exchange, ExchangeSink } from "./pending-exchange.js";
import type { OutgoingRequest } from "./request-layer.js";
import { blockFollowUp, followUpTemplate, type RequestTemplate } from "./request-template.js";
import { toResponse } from "./response-view.js";

/** What a call needs from the endpoint. */
export interface CallHost {
  start(request: OutgoingRequest, sink: ExchangeSink): Exchange;
  cancel(exchange: Exchange, reason: string): void;
  /** Counts one Block2 follow-up. */
  countBlockRequest(): void;
}

export interface CallEnd {
  onResponse(response: CoapResponse): void;
  onError(error: CoapRequestError): void;
}

const WITHOUT_BLOCK2: readonly number[] = Object.freeze([OptionNumber.Block2]);

export function block2Of(message: DecodedMessage): BlockValue | undefined {
  const value = optionUint(message, OptionNumber.Block2);
  return value === undefined ? undefined : decodeBlock(value);
}

/**
 * Also the sink of its own exchanges (ExchangeSink), the first and each follow-up in turn: no
 * pair of closures per exchange.
 */
export class RequestCall implements ExchangeSink {
  readonly #host: CallHost;
  /** What follow-ups derive from: the request without the body they never repeat (followUpTemplate). */
  readonly #template: RequestTemplate;
  readonly #settings: Block2Settings;
  readonly #end: CallEnd;
  #exchange: Exchange | undefined;
  #first: Exchange | undefined;
  #assembly: Block2Assembly | undefined;
  /** The first block's response, copied, without Block2; the assembled body goes in its place. */
  #head: CoapResponse | undefined;
  /** The block the exchange in flight asks for; undefined while it is the first request. */
  #block: number | undefined;
  #done = false;

  /** `template` is what follow-up block requests are derived from. */
  constructor(host: CallHost, template: RequestTemplate, settings: Block2Settings, end: CallEnd) {
    this.#host = host;
    this.#template = followUpTemplate(template);
    this.#settings = settings;
    this.#end = end;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Whether the first request has gone on the wire (the server may have acted on it). */
  get transmitted(): boolean {
    return this.#first === undefined || this.#first.firstSentAt !== undefined;
  }

  /** Sends the first request through `startFirst`; throws what it throws (bad-request, queue-full …). */
  begin(startFirst: (sink: ExchangeSink) => Exchange): void {
    this.#exchange = startFirst(this);
    this.#first = this.#exchange;
  }

  /** Continues from a response that arrived by other means (a block-wise notification, RFC 7959 §2.6). */
  continueFrom(first: DecodedMessage): void {
    this.onFirst(first);
  }

  cancel(reason: string = "cancelled"): void {
    if (this.#done) return;
    const exchange = this.#exchange;
    if (exchange !== undefined && exchange.state !== "done") {
      this.#host.cancel(exchange, reason);
    } else {
      this.fail(new CoapRequestError("cancelled", reason));
    }
  }

  /** @internal (ExchangeSink) the answer to the exchange in flight. */
  onResponse(message: DecodedMessage): void {
    if (this.#block === undefined) this.onFirst(message);
    else this.onBlock(message, this.#block);
  }

  /** @internal (ExchangeSink) */
  onFailure(error: CoapRequestError): void {
    if (this.#block === undefined) this.fail(error);
    else this.onBlockFailure(error, this.#block);
  }

  private onFirst(message: DecodedMessage): void {
    this.#exchange = undefined;
    const block = block2Of(message);
    // Error responses are delivered as they come; only a success is worth fetching in full.
    if (block === undefined || !isSuccessCode(message.code)) {
      if (message.payload.length > this.#settings.maxBodySize) {
        this.fail(
          new CoapRequestError(
            "too-large",
            `a ${message.payload.length}-byte body exceeds ${this.#settings.maxBodySize}`,
          ),
        );
        return;
      }
      this.succeed(toResponse(message, undefined, WITHOUT_BLOCK2));
      return;
    }
    this.#head = toResponse(message, EMPTY_BYTES, WITHOUT_BLOCK2);
    this.#assembly = new Block2Assembly(this.#settings);
    this.step(this.feed(message, block));
  }

  private feed(message: DecodedMessage, block: BlockValue | undefined): Block2Step {
    return this.#assembly!.accept(
      block,
      message.payload,
      optionBytes(message, OptionNumber.ETag),
      optionUint(message, OptionNumber.Size2),
    );
  }

  private step(step: Block2Step): void {
    if (step.kind === "complete") {
      const head = this.#head!;
      this.succeed({ type: head.type, code: head.code, options: head.options, payload: step.body });
      return;
    }
    if (step.kind === "failed") {
      this.fail(new CoapRequestError(step.error, step.reason));
      return;
    }
    const block = step.block;
    try {
      this.#host.countBlockRequest();
      this.#block = block.num;
      this.#exchange = this.#host.start(
        { template: blockFollowUp(this.#template, block), priority: true, internal: true },
        this,
      );
    } catch (error) {
      this.fail(error instanceof CoapRequestError ? error : new CoapRequestError("block-transfer", String(error)));
    }
  }

  private onBlock(message: DecodedMessage, num: number): void {
    this.#exchange = undefined;
    if (!isSuccessCode(message.code)) {
      this.fail(new CoapRequestError("block-transfer", `block ${num} answered with ${codeString(message.code)}`));
      return;
    }
    this.step(this.feed(message, block2Of(message)));
  }

  private onBlockFailure(error: CoapRequestError, num: number): void {
    this.#exchange = undefined;
    // The server stopped answering or reset the follow-up: the transfer, not the request, broke.
    if (error.kind === "timeout" || error.kind === "reset") {
      this.fail(new CoapRequestError("block-transfer", `block ${num}: ${error.message}`));
    } else {
      this.fail(error);
    }
  }

  private succeed(response: CoapResponse): void {
    if (this.#done) return;
    this.#done = true;
    this.#end.onResponse(response);
  }

  private fail(error: CoapRequestError): void {
    if (this.#done) return;
    this.#done = true;
    this.#end.onError(error);
  }
}
