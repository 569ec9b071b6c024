// Stand-ins for the ECMA-419 IO classes the ESP32 adapters use (embedded:io/digital, pwm, analog)
// and for the SDK's `sntp` and `time`, shaped after Moddable's ESP32 implementations (modules/io,
// modules/network/sntp): the same constructor bags, properties and callback messages. The Wi-Fi
// driver's stand-ins are in classic-wifi.ts. They are
// strict where the hardware would misbehave silently — a PWM value that is not an integer in
// range, a write after close — so the adapters' arithmetic and life cycle can be checked on a PC.
// test/node/moddable-esp32-adapters.test.ts bundles the adapters with these in place of the
// SDK's modules. Bound: each log holds what one test does.

/** Everything the fakes were asked to do, in order, for the test to read. */
export const io = {
  opened: [] as { kind: string; options: Record<string, unknown> }[],
  writes: [] as { kind: string; pin: number; value: number }[],
  closed: [] as { kind: string; pin: number }[],
  /** The next Analog.read() results, oldest first; 0 when empty. */
  analogReadings: [] as number[],
  /** The next Digital input reads, oldest first (the setup button); 1 (released) when empty. */
  digitalReadings: [] as number[],
  /** Every SNTP request made, oldest first. */
  sntp: [] as FakeSNTP[],
  /** Every Time.set(seconds). */
  timeSet: [] as number[],
  reset(): void {
    this.opened.length = 0;
    this.writes.length = 0;
    this.closed.length = 0;
    this.analogReadings.length = 0;
    this.digitalReadings.length = 0;
    this.sntp.length = 0;
    this.timeSet.length = 0;
  },
};

abstract class FakePin {
  readonly #kind: string;
  #pin: number | undefined;

  constructor(kind: string, options: { pin: number } & Record<string, unknown>) {
    if (!Number.isInteger(options.pin)) throw new RangeError(`${kind}: invalid pin`);
    this.#kind = kind;
    this.#pin = options.pin;
    io.opened.push({ kind, options: { ...options } });
  }

  protected pin(): number {
    if (this.#pin === undefined) throw new Error(`${this.#kind}: closed`);
    return this.#pin;
  }

  protected record(value: number): void {
    io.writes.push({ kind: this.#kind, pin: this.pin(), value });
  }

  close(): void {
    if (this.#pin === undefined) return;
    io.closed.push({ kind: this.#kind, pin: this.#pin });
    this.#pin = undefined;
  }
}

export class FakeDigital extends FakePin {
  static readonly Input = 0;
  static readonly InputPullUp = 1;
  static readonly Output = 8;
  readonly #mode: number;

  constructor(options: { pin: number; mode: number }) {
    if (options.mode !== FakeDigital.Output && options.mode !== FakeDigital.InputPullUp)
      throw new RangeError("Digital: this fake drives outputs and reads pulled-up inputs");
    super("digital", options);
    this.#mode = options.mode;
  }

  read(): number {
    this.pin();
    if (this.#mode !== FakeDigital.InputPullUp) throw new Error("Digital: not an input");
    return io.digitalReadings.shift() ?? 1;
  }

  write(value: number): void {
    if (this.#mode !== FakeDigital.Output) throw new Error("Digital: not an output");
    if (value !== 0 && value !== 1) throw new RangeError(`Digital: ${value}`);
    this.record(value);
  }
}

export class FakePWM extends FakePin {
  /** ESP32 LEDC as Moddable configures it by default. */
  readonly resolution = 10;

  constructor(options: { pin: number; hz?: number }) {
    super("pwm", options);
  }

  write(value: number): void {
    if (!Number.isInteger(value) || value < 0 || value > 2 ** this.resolution - 1)
      throw new RangeError(`PWM: ${value}`);
    this.record(value);
  }
}

export class FakeAnalog extends FakePin {
  /** The ESP32 ADC's width in Moddable's ECMA-419 Analog. */
  readonly resolution = 12;

  constructor(options: { pin: number }) {
    super("analog", options);
  }

  read(): number {
    this.pin();
    return io.analogReadings.shift() ?? 0;
  }
}

/** modules/network/sntp: asks `host` at once; the test answers with answer() or fail(). */
export class FakeSNTP {
  static readonly time = 1;
  static readonly retry = 2;
  static readonly error = -1;
  readonly host: string;
  readonly #callback: (message: number, value?: unknown) => unknown;
  closed = false;

  constructor(options: { host: string }, callback: (message: number, value?: unknown) => unknown) {
    this.host = options.host;
    this.#callback = callback;
    io.sntp.push(this);
  }

  /** The server answered: the SDK closes itself, then reports the time in seconds. */
  answer(seconds: number): void {
    this.closed = true;
    this.#callback(FakeSNTP.time, seconds);
  }

  /** Every retry ran out: the SDK closes itself unless the callback names another host. */
  fail(message: string): void {
    const next = this.#callback(FakeSNTP.error, message);
    if (next === undefined) this.closed = true;
  }

  close(): void {
    this.closed = true;
  }
}

/** modules/base/time: set(seconds) moves the clock Date reads. */
export const FakeTime = {
  set(seconds: number): void {
    io.timeSet.push(seconds);
  },
  ticks: 0,
};

/** build/devices/esp32/modules/resetReason: what the next getResetReason() answers (null: it throws). */
export const resetReasonAnswer: { value: { reason: number; string: string } | null } = {
  value: { reason: 1, string: "Power-On" },
};

export function fakeResetReason(): { reason: number; string: string } {
  if (resetReasonAnswer.value === null) throw new Error("esp_reset_reason failed");
  return resetReasonAnswer.value;
}
