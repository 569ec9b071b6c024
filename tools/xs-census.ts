// The device's heap by part, from one xsnap heap snapshot (tools/xs-heap.ts). The guest names two
// objects in `globalThis.memoryRoots` (test/xs/device-memory-guest.ts): `device`, the Device, and
// `held`, the ports' own holders of callbacks (the bridge's timer list and UDP receiver, which on
// the board are the SDK's Timer and socket objects). Three passes over the graph:
// - loaded: everything reachable from the machine's roots without entering `device` or `held`:
//   XS's built-ins, the bundle's code and frozen tables, the guest (on the board: ROM, preloaded);
// - device: what is reachable from `device` and not loaded, divided by part;
// - held: what only the ports' holders keep alive (the timer callbacks' closures).
// A part is a field of the Device (`#telemetry`, `#link`, …), and within it a field of that, as
// deep as asked: what the field's object reaches without entering another field's object of the
// same owner (parts refer to each other: a listener closure of telemetry held by the connectivity
// events, the client held by the subscription keeper). What two fields reach is counted once, as
// shared; a Map or an array counts with everything it reaches.
import { ESP32_SLOT_BYTES, type HeapGraph, HOST_SLOT_BYTES, heapTotals, Kind } from "./xs-heap.js";

export interface HeapFigure {
  readonly slots: number;
  /** Chunk bytes in this heap (64-bit host). */
  readonly chunkBytes: number;
  /** Estimated chunk bytes on the ESP32. */
  readonly esp32ChunkBytes: number;
}

/** Slots at 16 bytes and the chunks as estimated for the ESP32. */
export function esp32Bytes(figure: HeapFigure): number {
  return figure.slots * ESP32_SLOT_BYTES + figure.esp32ChunkBytes;
}

export function hostBytes(figure: HeapFigure): number {
  return figure.slots * HOST_SLOT_BYTES + figure.chunkBytes;
}

/** How an object's heap divides: its fields' parts, what they share, and its own is the rest. */
export interface Division {
  /** Fields whose object keeps at least CensusOptions.minimumBytes to itself, largest first. */
  readonly parts: readonly PartFigure[];
  /** The other fields' parts, together. */
  readonly smaller: HeapFigure;
  /** Reached from two fields or more. */
  readonly shared: HeapFigure;
  /** With CensusOptions.keepNodes: the shared nodes. */
  readonly sharedNodes?: Uint8Array;
}

export interface PartFigure extends HeapFigure, Division {
  /** Field path from the device: "#link", "#link.endpoint", … */
  readonly path: string;
  /** Class of the object the field holds (its constructor's name), or its XS kind. */
  readonly what: string;
  /** With CensusOptions.keepNodes: the part's own nodes. */
  readonly nodes?: Uint8Array;
}

/** What `part` keeps beyond its fields' parts and what they share (all of it below the reported depth). */
export function ownFigure(part: HeapFigure & Division): HeapFigure {
  return minus(part, ...part.parts, part.smaller, part.shared);
}

export interface DeviceCensus extends Division {
  /** The whole live heap. */
  readonly total: HeapFigure;
  readonly loaded: HeapFigure;
  /** Everything reached from the device and not loaded; divided by part (Division). */
  readonly device: HeapFigure;
  /** The Device's own slots (fields, methods' slots) beyond its parts. */
  readonly own: HeapFigure;
  /** With CensusOptions.keepNodes: the device's nodes. */
  readonly deviceNodes?: Uint8Array;
  readonly held: HeapFigure;
  /**
   * Neither loaded, nor the device's, nor held: what only a bytecode function's home keeps alive
   * (xs-heap.ts), which on the board is not kept.
   */
  readonly other: HeapFigure;
}

export interface CensusOptions {
  /** How many levels of fields below the device to report (default 3). */
  readonly depth?: number;
  /** Parts below this many ESP32 bytes are folded into their parent (default 192). */
  readonly minimumBytes?: number;
  /** Keep each part's nodes (PartFigure.nodes, Division.sharedNodes), for classCensus(). */
  readonly keepNodes?: boolean;
}

function sum(graph: HeapGraph, nodes: Iterable<number>): HeapFigure {
  let slots = 0;
  let chunkBytes = 0;
  let esp32ChunkBytes = 0;
  for (const node of nodes) {
    if (node <= graph.slotCount) slots++;
    else {
      chunkBytes += graph.hostBytes[node]!;
      esp32ChunkBytes += graph.esp32Bytes[node]!;
    }
  }
  return { slots, chunkBytes, esp32ChunkBytes };
}

function plus(a: HeapFigure, b: HeapFigure): HeapFigure {
  return {
    slots: a.slots + b.slots,
    chunkBytes: a.chunkBytes + b.chunkBytes,
    esp32ChunkBytes: a.esp32ChunkBytes + b.esp32ChunkBytes,
  };
}

function minus(a: HeapFigure, ...others: HeapFigure[]): HeapFigure {
  let { slots, chunkBytes, esp32ChunkBytes } = a;
  for (const b of others) {
    slots -= b.slots;
    chunkBytes -= b.chunkBytes;
    esp32ChunkBytes -= b.esp32ChunkBytes;
  }
  return { slots, chunkBytes, esp32ChunkBytes };
}

/** Nodes reachable from `from` without entering a node for which `blocked` holds (nor a weak edge if `strong`). */
function reach(
  graph: HeapGraph,
  from: readonly number[],
  blocked: (node: number) => boolean,
  strong = false,
): Uint8Array {
  const seen = new Uint8Array(graph.nodeCount);
  const stack: number[] = [];
  for (const node of from) {
    if (node !== 0 && !blocked(node) && seen[node] === 0) {
      seen[node] = 1;
      stack.push(node);
    }
  }
  while (stack.length > 0) {
    const node = stack.pop()!;
    for (let e = graph.edgeStart[node]!; e < graph.edgeStart[node + 1]!; e++) {
      if (strong && graph.weak[e] === 1) continue;
      const target = graph.edges[e]!;
      if (seen[target] === 0 && !blocked(target)) {
        seen[target] = 1;
        stack.push(target);
      }
    }
  }
  return seen;
}

function members(marks: Uint8Array): number[] {
  const out: number[] = [];
  for (let n = 1; n < marks.length; n++) if (marks[n] === 1) out.push(n);
  return out;
}

/** The property slots of an instance, own and private, with their names. */
function fieldsOf(graph: HeapGraph, instance: number): { name: string; slot: number }[] {
  const out: { name: string; slot: number }[] = [];
  for (let p = graph.nextOf(instance); p !== 0; p = graph.nextOf(p)) {
    if (graph.kinds[p] === Kind.Private) {
      for (let f = graph.valueSlot(p, 1); f !== 0; f = graph.nextOf(f)) {
        const name = graph.keyName(graph.ids[f]!);
        if (name !== undefined) out.push({ name, slot: f });
      }
      continue;
    }
    const name = graph.keyName(graph.ids[p]!);
    if (name !== undefined && graph.kinds[p] !== Kind.Home) out.push({ name, slot: p });
  }
  return out;
}

function propertyNamed(graph: HeapGraph, instance: number, name: string): number {
  const id = graph.keyId(name);
  if (id === undefined) return 0;
  for (let p = graph.nextOf(instance); p !== 0; p = graph.nextOf(p)) if (graph.ids[p] === id) return p;
  return 0;
}

const KIND_NAMES = new Map<number, string>(Object.entries(Kind).map(([name, kind]) => [kind, name]));

/** "ClassName" for an instance made by a named constructor, else what kind of object it is. */
export function describeNode(graph: HeapGraph, node: number): string {
  if (node > graph.slotCount) return "chunk";
  const kind = graph.kinds[node]!;
  if (kind !== Kind.Instance) return KIND_NAMES.get(kind) ?? `kind ${kind}`;
  const inner = graph.nextOf(node);
  const innerKind = inner === 0 ? -1 : graph.kinds[inner]!;
  if (innerKind === Kind.Code || innerKind === Kind.CodeX || innerKind === Kind.Callback) return "function";
  if (innerKind === Kind.Array) return "Array";
  if (innerKind === Kind.Map) return "Map";
  if (innerKind === Kind.Set) return "Set";
  if (innerKind === Kind.Promise) return "Promise";
  if (innerKind === Kind.TypedArray) return "TypedArray";
  if (innerKind === Kind.ArrayBuffer) return "ArrayBuffer";
  if (innerKind === Kind.Stack) return "suspended async function";
  if (innerKind === Kind.Error) return "Error";
  const prototype = graph.valueSlot(node, 1);
  const maker = graph.referenceOf(propertyNamed(graph, prototype, "constructor"));
  const name = graph.stringValue(propertyNamed(graph, maker, "name"));
  return name === undefined || name === "" ? "Object" : name;
}

/** Finds `globalThis.memoryRoots.<name>`: the instance it holds, or 0. */
function memoryRoot(graph: HeapGraph, name: string): number {
  const id = graph.keyId("memoryRoots");
  if (id === undefined) return 0;
  for (let n = 1; n <= graph.slotCount; n++) {
    if (graph.ids[n] !== id || graph.kinds[n] !== Kind.Reference) continue;
    const holder = graph.referenceOf(n);
    const property = propertyNamed(graph, holder, name);
    if (property !== 0) return graph.referenceOf(property);
  }
  return 0;
}

export function deviceCensus(graph: HeapGraph, options: CensusOptions = {}): DeviceCensus {
  const depth = options.depth ?? 3;
  const minimumBytes = options.minimumBytes ?? 192;
  const device = memoryRoot(graph, "device");
  const held = memoryRoot(graph, "held");
  if (device === 0 || held === 0) throw new Error("the snapshot has no memoryRoots.device and memoryRoots.held");
  const heldTargets = fieldsOf(graph, held)
    .map((field) => graph.referenceOf(field.slot))
    .filter((n) => n !== 0);
  const fence = new Set<number>([device, held, ...heldTargets]);

  const loadedMarks = reach(graph, graph.roots, (n) => fence.has(n));
  const deviceMarks = reach(graph, [device], (n) => loadedMarks[n] === 1 || (n !== device && fence.has(n)));
  const heldMarks = reach(graph, [held, ...heldTargets], (n) => loadedMarks[n] === 1 || deviceMarks[n] === 1);

  const zero: HeapFigure = { slots: 0, chunkBytes: 0, esp32ChunkBytes: 0 };
  /**
   * The parts of `owner`: each field holding an object of `inside`, with what that object reaches
   * without entering another field's object, the owner, or anything `fenced`, a node going to the
   * field that reaches it in the fewest steps: first without following closures to the
   * environment they captured (a closure one part hands another, a listener or a callback, reaches
   * its maker's state that way), then, for what is still nobody's, following them too. What two
   * fields reach equally near is `shared`; parts below minimumBytes are summed as `smaller`.
   */
  const partsOf = (
    owner: number,
    inside: Uint8Array,
    fenced: (node: number) => boolean,
    prefix: string,
    level: number,
  ): Division => {
    const fields = fieldsOf(graph, owner)
      .map((field) => ({ name: field.name, target: graph.referenceOf(field.slot) }))
      .filter((field) => field.target !== 0 && field.target !== owner && inside[field.target] === 1);
    const roots = new Set<number>(fields.map((field) => field.target));
    const blocked = (n: number): boolean => inside[n] !== 1 || n === owner || fenced(n);
    /** 0: nobody's yet; 1 + i: field i's; SHARED: reached as soon from two fields. */
    const claim = new Uint8Array(graph.nodeCount);
    const distance = new Uint32Array(graph.nodeCount);
    const SHARED = 255;
    /** Breadth first from `sources` at once: a node is the nearest field's; ties are shared. */
    const spread = (sources: readonly number[], strong: boolean): void => {
      let level = sources;
      while (level.length > 0) {
        const next: number[] = [];
        for (const node of level) {
          for (let e = graph.edgeStart[node]!; e < graph.edgeStart[node + 1]!; e++) {
            if (strong && graph.weak[e] === 1) continue;
            const target = graph.edges[e]!;
            if (blocked(target) || roots.has(target)) continue;
            if (claim[target] === 0) {
              claim[target] = claim[node]!;
              distance[target] = distance[node]! + 1;
              next.push(target);
            } else if (claim[target] !== claim[node] && distance[target] === distance[node]! + 1) {
              claim[target] = SHARED;
            }
          }
        }
        level = next;
      }
    };
    fields.forEach((field, i) => {
      claim[field.target] = 1 + i;
    });
    spread(
      fields.map((field) => field.target),
      true,
    );
    // What only closures' environments reach goes to the nearest part that reaches it so.
    const claimed: number[] = [];
    for (let n = 1; n < claim.length; n++) if (claim[n] !== 0) claimed.push(n);
    spread(claimed, false);
    const sharedNodes: number[] = [];
    for (let n = 1; n < claim.length; n++) if (claim[n] === SHARED) sharedNodes.push(n);
    const parts: PartFigure[] = [];
    let smaller = zero;
    fields.forEach((field, i) => {
      const own = new Uint8Array(graph.nodeCount);
      for (let n = 1; n < claim.length; n++) if (claim[n] === 1 + i) own[n] = 1;
      const figure = sum(graph, members(own));
      if (esp32Bytes(figure) < minimumBytes) {
        smaller = plus(smaller, figure);
        return;
      }
      const path = prefix === "" ? field.name : `${prefix}.${field.name}`;
      const below =
        level < depth
          ? partsOf(field.target, own, (n) => fenced(n) || n === owner || roots.has(n), path, level + 1)
          : { parts: [], smaller: zero, shared: zero };
      const nodes = options.keepNodes === true ? own : undefined;
      parts.push({ path, what: describeNode(graph, field.target), ...figure, ...below, nodes });
    });
    let sharedMarks: Uint8Array | undefined;
    if (options.keepNodes === true) {
      sharedMarks = new Uint8Array(graph.nodeCount);
      for (const n of sharedNodes) sharedMarks[n] = 1;
    }
    return {
      parts: parts.sort((a, b) => esp32Bytes(b) - esp32Bytes(a)),
      smaller,
      shared: sum(graph, sharedNodes),
      sharedNodes: sharedMarks,
    };
  };
  const top = partsOf(device, deviceMarks, (n) => fence.has(n), "", 1);
  const deviceFigure = sum(graph, members(deviceMarks));
  const total = heapTotals(graph);
  const loaded = sum(graph, members(loadedMarks));
  const heldFigure = sum(graph, members(heldMarks));
  return {
    total,
    loaded,
    device: deviceFigure,
    ...top,
    own: ownFigure({ ...deviceFigure, ...top }),
    deviceNodes: options.keepNodes === true ? deviceMarks : undefined,
    held: heldFigure,
    other: minus(total, loaded, deviceFigure, heldFigure),
  };
}

export interface ClassFigure extends HeapFigure {
  /** The class (constructor name), "function NAME" for a function, or the object's XS kind. */
  readonly what: string;
  readonly count: number;
}

/**
 * What the objects of `nodes` are, by class: each object with the slots and chunks it reaches
 * without passing through another object (its properties, internal slots, backing stores,
 * strings), summed by class, largest first. For finding where a part's heap goes.
 */
export function classCensus(graph: HeapGraph, nodes: Uint8Array): ClassFigure[] {
  const isObject = (n: number): boolean => n <= graph.slotCount && graph.kinds[n] === Kind.Instance;
  const owner = new Int32Array(graph.nodeCount).fill(-1);
  const figures = new Map<string, { slots: number; chunkBytes: number; esp32ChunkBytes: number; count: number }>();
  const label = (n: number): string => {
    const what = describeNode(graph, n);
    if (what !== "function") return what;
    const code = graph.nextOf(n);
    const name = graph.keyName(graph.ids[code]!);
    return name === undefined || name === "@" ? "function" : `function ${name}`;
  };
  for (let n = 1; n < nodes.length; n++) {
    if (nodes[n] !== 1 || !isObject(n)) continue;
    const what = label(n);
    const figure = figures.get(what) ?? { slots: 0, chunkBytes: 0, esp32ChunkBytes: 0, count: 0 };
    figure.count++;
    const stack = [n];
    owner[n] = n;
    while (stack.length > 0) {
      const node = stack.pop()!;
      if (node <= graph.slotCount) figure.slots++;
      else {
        figure.chunkBytes += graph.hostBytes[node]!;
        figure.esp32ChunkBytes += graph.esp32Bytes[node]!;
      }
      for (let e = graph.edgeStart[node]!; e < graph.edgeStart[node + 1]!; e++) {
        const target = graph.edges[e]!;
        if (nodes[target] === 1 && owner[target] < 0 && !isObject(target)) {
          owner[target] = n;
          stack.push(target);
        }
      }
    }
    figures.set(what, figure);
  }
  return [...figures.entries()]
    .map(([what, figure]) => ({ what, ...figure }))
    .sort((a, b) => esp32Bytes(b) - esp32Bytes(a));
}
