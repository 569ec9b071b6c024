// A CoapClient for portable specs: records every request, resend and observation, and answers
// from a script the test sets up. Replies settle on a later microtask, as a real endpoint's
// would. Portable: runs on Node and on XS.

import {
  type CoapClient,
  CoapRequestError,
  type CoapResponse,
  type Observation,
  type ObserveHandlers,
  type ObserveOptions,
  type RequestOptions,
  type SentRequest,
} from "../../coap/client-api.js";
import { MessageType, parseCode } from "../../coap/codes.js";
import { encodeMessage } from "../../coap/encoder.js";
import { type CoapOption, EMPTY_BYTES, pathOptions, queryOptions, sortOptions } from "../../coap/message.js";
import { OptionNumber } from "../../coap/options.js";
import { encodeUtf8 } from "../../kernel/utf8.js";

/** What a scripted step does with a request: answer it, or fail it. */
export type FakeAnswer = CoapResponse | Error;
export type FakeStep = FakeAnswer | ((request: RequestOptions | SentRequest) => FakeAnswer);

/** A response with `code` ("2.05") and a body: text as is, anything else as JSON. */
export function reply(code: string, body?: unknown, type: MessageType = MessageType.ACK): CoapResponse {
  const parsed = parseCode(code);
  if (parsed === undefined) throw new Error(`fake: bad code ${code}`);
  const payload =
    body === undefined
      ? EMPTY_BYTES
      : body instanceof Uint8Array
        ? body
        : encodeUtf8(typeof body === "string" ? body : JSON.stringify(body));
  return { type, code: parsed, options: [], payload };
}

/** The request as real bytes (as the endpoint would have sent it), for SentRequest.bytes. */
export function encodeRequest(request: RequestOptions, messageId: number, token: Uint8Array): Uint8Array {
  const options: CoapOption[] = [
    ...pathOptions(request.path),
    ...(request.query === undefined ? [] : queryOptions(request.query)),
  ];
  if (request.contentFormat !== undefined)
    options.push({ number: OptionNumber.ContentFormat, value: request.contentFormat });
  const payload =
    request.payload === undefined
      ? EMPTY_BYTES
      : typeof request.payload === "string"
        ? encodeUtf8(request.payload)
        : request.payload;
  return encodeMessage({
    type: MessageType.CON,
    code: methodCode(request.method),
    messageId,
    token,
    options: sortOptions(options),
    payload,
  });
}

function methodCode(method: RequestOptions["method"]): number {
  return { GET: 1, POST: 2, PUT: 3, DELETE: 4, FETCH: 5, PATCH: 6, iPATCH: 7 }[method];
}

export class FakeObservation implements Observation {
  readonly request: RequestOptions;
  readonly handlers: ObserveHandlers;
  readonly observeOptions: ObserveOptions | undefined;
  cancelled = false;
  reregistrations = 0;

  constructor(request: RequestOptions, handlers: ObserveHandlers, observeOptions: ObserveOptions | undefined) {
    this.request = request;
    this.handlers = handlers;
    this.observeOptions = observeOptions;
  }

  get active(): boolean {
    return !this.cancelled;
  }

  /** Delivers one notification, as the endpoint would. */
  notify(response: CoapResponse): void {
    this.handlers.onNotification(response);
  }

  async cancel(): Promise<void> {
    this.cancelled = true;
  }

  reregister(): void {
    this.reregistrations++;
  }
}

export class FakeCoapClient implements CoapClient {
  readonly requests: RequestOptions[] = [];
  readonly resends: SentRequest[] = [];
  readonly observations: FakeObservation[] = [];
  /** Answers when the script is empty; by default every request fails as unscripted. */
  fallback: FakeStep = new Error("fake CoAP client: no reply scripted");
  #script: FakeStep[] = [];
  #nextMessageId = 0x100;

  /** Queues answers for the next requests (and resends), in order. */
  script(...steps: FakeStep[]): this {
    this.#script.push(...steps);
    return this;
  }

  get unansweredSteps(): number {
    return this.#script.length;
  }

  request(options: RequestOptions): Promise<CoapResponse> {
    this.requests.push(options);
    return this.#answer(options);
  }

  resend(sent: SentRequest): Promise<CoapResponse> {
    this.resends.push(sent);
    return this.#answer(sent);
  }

  observe(options: RequestOptions, handlers: ObserveHandlers, observeOptions?: ObserveOptions): Observation {
    const observation = new FakeObservation(options, handlers, observeOptions);
    this.observations.push(observation);
    return observation;
  }

  /** A SentRequest for `request` (new message ID, 4-byte token), as a timeout would carry. */
  sentFor(request: RequestOptions, firstSentAt = 0): SentRequest {
    const messageId = this.#nextMessageId++;
    const token = new Uint8Array([1, 2, 3, messageId & 0xff]);
    return { messageId, token, bytes: encodeRequest(request, messageId, token), firstSentAt };
  }

  /** A step that times out, carrying the request as sent. */
  timeoutStep(firstSentAt = 0): FakeStep {
    return (request) =>
      new CoapRequestError(
        "timeout",
        "no answer",
        "messageId" in request ? request : this.sentFor(request, firstSentAt),
      );
  }

  async #answer(request: RequestOptions | SentRequest): Promise<CoapResponse> {
    await Promise.resolve();
    const step = this.#script.length > 0 ? this.#script.shift()! : this.fallback;
    const answer = typeof step === "function" ? step(request) : step;
    if (answer instanceof Error) throw answer;
    return answer;
  }
}
