// The XS side of the xsnap bridge (tools/xs-bridge.ts): ports for the portable core that reach
// the Node host through xsnap's command channel. The host delivers datagrams and clock ticks with
// worker.issueCommand (handled by `handleCommand` here); the guest sends datagrams, log lines and
// events with the synchronous global `issueCommand`. No console, no timers: XS under xsnap has
// neither, so time is whatever the host's last tick said. Each UDP port (`udp`, and any from
// openUdp()) is a socket of its own on the host.

import type { DatagramPort } from "../../coap/datagram-port.js";
import type { PeerAddress } from "../../coap/peer-address.js";
import type { Clock, TimerHandle } from "../../kernel/clock.js";
import type { LogSink } from "../../kernel/log.js";
import type { RandomSource } from "../../kernel/random.js";
import { decodeUtf8, encodeUtf8 } from "../../kernel/utf8.js";

declare function issueCommand(message: ArrayBuffer): ArrayBuffer;

export type HostMessage =
  | { readonly kind: "tick"; readonly now: number }
  | {
      readonly kind: "datagram";
      readonly now: number;
      readonly hex: string;
      readonly address: string;
      readonly port: number;
      /** Which of the guest's UDP ports (0: `udp`). */
      readonly socket?: number;
    }
  | { readonly kind: "call"; readonly now: number; readonly name: string; readonly args: readonly unknown[] };

function toHex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += (bytes[i]! < 16 ? "0" : "") + bytes[i]!.toString(16);
  return out;
}

function fromHex(hex: string): Uint8Array {
  const bytes = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.substr(i * 2, 2), 16);
  return bytes;
}

function toHost(message: object): unknown {
  const reply = issueCommand(encodeUtf8(JSON.stringify(message)).buffer as ArrayBuffer);
  const text = reply.byteLength === 0 ? "" : decodeUtf8(new Uint8Array(reply));
  return text === "" ? undefined : JSON.parse(text);
}

interface PendingTimer {
  readonly id: number;
  readonly due: number;
  readonly callback: () => void;
}

/** Timers fire when a host tick reaches their due time; bounded by what the core schedules. */
class TickClock implements Clock {
  #now = 0;
  #nextId = 1;
  #timers: PendingTimer[] = [];

  now(): number {
    return this.#now;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.push({ id, due: this.#now + Math.max(0, delayMs), callback });
    return id;
  }

  clearTimer(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t.id !== handle);
  }

  /** Fires every timer due by `now`, oldest first; returns how many fired. */
  advanceTo(now: number): number {
    if (now > this.#now) this.#now = now;
    let fired = 0;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const t of this.#timers)
        if (t.due <= this.#now && (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id)))
          next = t;
      if (next === undefined) return fired;
      const due = next;
      this.#timers = this.#timers.filter((t) => t !== due);
      fired++;
      due.callback();
    }
  }
}

export interface BridgeHeld {
  readonly clock: Clock;
  /** By socket number; bounded by the ports opened. */
  readonly receivers: Map<number, (bytes: Uint8Array, from: PeerAddress) => void>;
}

export interface BridgePorts {
  readonly udp: DatagramPort;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly log: LogSink;
  /** Sends an application event (JSON-serialisable) to the host. */
  emit(event: object): void;
  /** Asks the host for a value synchronously (e.g. the wall-clock time, a stored key). */
  ask(name: string, args: readonly unknown[]): unknown;
  /** Registers a function the host can call by name. */
  expose(name: string, fn: (...args: unknown[]) => unknown): void;
  /** Another UDP port, a socket of its own on the host (a second endpoint). */
  openUdp(): DatagramPort;
  readonly held: BridgeHeld;
}

export function createBridgePorts(): BridgePorts {
  const clock = new TickClock();
  const held: BridgeHeld = { clock, receivers: new Map() };
  const exposed = new Map<string, (...args: unknown[]) => unknown>();
  let sockets = 0;

  (globalThis as { handleCommand?: (message: ArrayBuffer) => ArrayBuffer }).handleCommand = (message) => {
    const command = JSON.parse(decodeUtf8(new Uint8Array(message))) as HostMessage;
    const fired = clock.advanceTo(command.now);
    let result: unknown;
    // A tick answers how many timers it fired: none means nothing ran (the host need not look at the heap).
    if (command.kind === "tick") result = fired;
    else if (command.kind === "datagram")
      held.receivers.get(command.socket ?? 0)?.(fromHex(command.hex), { address: command.address, port: command.port });
    else if (command.kind === "call") result = exposed.get(command.name)?.(...command.args);
    return encodeUtf8(result === undefined ? "" : JSON.stringify(result)).buffer as ArrayBuffer;
  };

  const openUdp = (): DatagramPort => {
    const socket = sockets++;
    return {
      send(bytes, to) {
        toHost({ kind: "send", hex: toHex(bytes), address: to.address, port: to.port, socket });
      },
      onReceive(handler) {
        held.receivers.set(socket, handler);
      },
      close() {
        held.receivers.delete(socket);
        toHost({ kind: "close", socket });
      },
    };
  };

  return {
    clock,
    udp: openUdp(),
    random: {
      next: () => Math.random(),
      fill(target) {
        for (let i = 0; i < target.length; i++) target[i] = Math.floor(Math.random() * 256);
      },
    },
    log(level, message) {
      toHost({ kind: "log", level, message });
    },
    emit(event) {
      toHost({ kind: "event", event });
    },
    ask(name, args) {
      return toHost({ kind: "ask", name, args });
    },
    expose(name, fn) {
      exposed.set(name, fn);
    },
    openUdp,
    held,
  };
}
