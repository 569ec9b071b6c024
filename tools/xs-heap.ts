// The object graph of an XS heap, read from an xsnap heap snapshot (npm @agoric/xsnap,
// xsSnapshot.c fxWriteSnapshot): every live slot and chunk with the references between them, so
// that the heap can be measured by part (tools/xs-census.ts). The snapshot is taken right after a
// collection, so it holds exactly the live heap: the atom "HEAP" is the slot heap (txSlot, 32 bytes
// on a 64-bit host), "BLOC" the chunk heap (strings, array and table backing stores, ArrayBuffer
// contents, bytecode), each chunk with its header (txChunk, 16 bytes on a 64-bit host), the same
// figures the Moddable SDK reports as "XS Slot Heap Used" and "XS Chunk Heap Used" after a GC.
// Pointers are written as indexes: a slot reference is the referenced slot's index (1-based, 0 for
// none), a chunk reference the offset of its data in "BLOC". Layout of a written slot (x86-64,
// xsAll.h with mx32bitID): next (8 bytes), kind (int8), flag (uint8), 2 spare, ID (int32), value
// (16 bytes: two 8-byte words).
// The ESP32 figures are estimates from the same graph: 16-byte slots, 8-byte chunk headers,
// backing stores of slots at 16 bytes an element, of pointers at 4, data rounded to 4 bytes, and
// no bytecode (in flash there).

/** sizeof(txSlot) in xsnap on a 64-bit host; 16 on the ESP32 (32-bit pointers, 16-bit IDs). */
export const HOST_SLOT_BYTES = 32;
export const ESP32_SLOT_BYTES = 16;
const HOST_CHUNK_HEADER = 16;
const ESP32_CHUNK_HEADER = 8;
const HOST_POINTER = 8;
const ESP32_POINTER = 4;

/** XS slot kinds (xsAll.h; xsnap builds without mxHostFunctionPrimitive). */
export const Kind = Object.freeze({
  Undefined: 0,
  Null: 1,
  Boolean: 2,
  Integer: 3,
  Number: 4,
  String: 5,
  StringX: 6,
  Symbol: 7,
  BigInt: 8,
  BigIntX: 9,
  Reference: 10,
  Closure: 11,
  Frame: 12,
  Instance: 13,
  ArgumentsSloppy: 14,
  ArgumentsStrict: 15,
  Array: 16,
  ArrayBuffer: 17,
  Callback: 18,
  Code: 19,
  CodeX: 20,
  Date: 21,
  DataView: 22,
  FinalizationCell: 23,
  FinalizationRegistry: 24,
  Global: 25,
  Host: 26,
  Map: 27,
  Module: 28,
  Program: 29,
  Promise: 30,
  Proxy: 31,
  RegExp: 32,
  Set: 33,
  TypedArray: 34,
  WeakMap: 35,
  WeakRef: 36,
  WeakSet: 37,
  Accessor: 38,
  At: 39,
  Entry: 40,
  Error: 41,
  Home: 42,
  Key: 43,
  KeyX: 44,
  List: 45,
  Private: 46,
  Stack: 47,
  Var: 48,
  CallbackX: 49,
  HostInspector: 50,
  InstanceInspector: 51,
  Export: 52,
  WeakEntry: 53,
  BufferInfo: 54,
  ModuleSource: 55,
  Ids: 56,
});

/** What a chunk holds, from the kind of the slot that points at it. */
type ChunkUse = "data" | "code" | "string" | "slots" | "table";

/** The references held in a slot's value, by kind: which words are slot indexes, which chunk offsets. */
const SLOT_WORDS: Readonly<Record<number, readonly (0 | 1)[]>> = Object.freeze({
  [Kind.Reference]: [0],
  [Kind.Closure]: [0],
  [Kind.Instance]: [1],
  [Kind.Code]: [1],
  [Kind.Callback]: [1],
  [Kind.FinalizationCell]: [0, 1],
  [Kind.FinalizationRegistry]: [0],
  [Kind.WeakMap]: [0],
  [Kind.WeakSet]: [0],
  [Kind.WeakEntry]: [0, 1],
  [Kind.WeakRef]: [0, 1],
  [Kind.Module]: [0],
  [Kind.Program]: [0],
  [Kind.ModuleSource]: [0],
  [Kind.Proxy]: [0, 1],
  [Kind.Accessor]: [0, 1],
  [Kind.Entry]: [0],
  [Kind.Error]: [0],
  [Kind.Home]: [0, 1],
  [Kind.List]: [0, 1],
  [Kind.Private]: [0, 1],
  [Kind.Export]: [0, 1],
});

const CHUNK_WORDS: Readonly<Record<number, readonly [0 | 1, ChunkUse][]>> = Object.freeze({
  [Kind.String]: [[0, "string"]],
  [Kind.BigInt]: [[0, "data"]],
  [Kind.ArgumentsSloppy]: [[0, "slots"]],
  [Kind.ArgumentsStrict]: [[0, "slots"]],
  [Kind.Array]: [[0, "slots"]],
  [Kind.Stack]: [[0, "slots"]],
  [Kind.ArrayBuffer]: [[0, "data"]],
  [Kind.Code]: [[0, "code"]],
  [Kind.RegExp]: [
    [0, "data"],
    [1, "data"],
  ],
  [Kind.Key]: [[0, "string"]],
  [Kind.Global]: [[0, "table"]],
  [Kind.Map]: [[0, "table"]],
  [Kind.Set]: [[0, "table"]],
  [Kind.Host]: [[0, "data"]],
});

/**
 * The heap as a graph. Nodes 1..slotCount are slots, slotCount+1.. chunks; node 0 is unused.
 * `edges` lists each node's references (CSR: edgeStart[n]..edgeStart[n+1]).
 */
export interface HeapGraph {
  readonly slotCount: number;
  readonly chunkCount: number;
  readonly nodeCount: number;
  /** Bytes of each node in this heap (64-bit host). */
  readonly hostBytes: Uint32Array;
  /** Estimated bytes of each node on the ESP32. */
  readonly esp32Bytes: Uint32Array;
  /** Slot kind, or -2 for a chunk. */
  readonly kinds: Int8Array;
  /** Slot ID (the property key's ID for a property), 0 for a chunk. */
  readonly ids: Int32Array;
  readonly edgeStart: Uint32Array;
  readonly edges: Uint32Array;
  /**
   * 1 for an edge from a function to its closures (the environment it captured): a closure
   * handed to another part (a listener, a callback) reaches its maker's state through it.
   */
  readonly weak: Uint8Array;
  /** Nodes referenced from the machine's stack and key table: where every live node is reached from. */
  readonly roots: readonly number[];
  /** The name of key `id` (a property name, private names with their "#"), if it has one. */
  keyName(id: number): string | undefined;
  /** The key ID of a name, if the heap has that key. */
  keyId(name: string): number | undefined;
  /** The text of a string slot. */
  stringValue(node: number): string | undefined;
  /** The slot a reference-kind slot points at (0 if none). */
  referenceOf(node: number): number;
  /** The slot that follows `node` in its list (an instance's first property, a property's next), 0 if none. */
  nextOf(node: number): number;
  /** Word 0 or 1 of a slot's value read as a slot index (instance: 1 is the prototype; private: 1 the first field). */
  valueSlot(node: number, word: 0 | 1): number;
}

interface Atom {
  readonly start: number;
  readonly end: number;
}

function atomsOf(bytes: Uint8Array): Map<string, Atom> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(4, 8)) !== "XS_M") throw new Error("not an XS snapshot");
  const atoms = new Map<string, Atom>();
  let at = 8;
  while (at + 8 <= bytes.length) {
    const size = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    atoms.set(type, { start: at + 8, end: at + size });
    at += size;
  }
  return atoms;
}

function readWord(view: DataView, at: number): number {
  // Indexes and offsets fit in 32 bits; the high word is 0.
  return view.getUint32(at, true);
}

export function parseXsSnapshot(bytes: Uint8Array): HeapGraph {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const atoms = atomsOf(bytes);
  const vers = atoms.get("VERS");
  if (vers === undefined || bytes[vers.start + 3] !== HOST_SLOT_BYTES)
    throw new Error(`expected ${HOST_SLOT_BYTES}-byte slots in the snapshot`);
  const heap = atoms.get("HEAP")!;
  const block = atoms.get("BLOC")!;
  const stack = atoms.get("STAC")!;
  const keys = atoms.get("KEYS")!;
  const slotCount = (heap.end - heap.start) / HOST_SLOT_BYTES;
  const slotAt = (index: number): number => heap.start + (index - 1) * HOST_SLOT_BYTES;

  // Chunks in BLOC order; a chunk reference is the offset of its data (header excluded).
  const chunkOffsets: number[] = [];
  const chunkIndex = new Map<number, number>();
  for (let at = 0; at < block.end - block.start; ) {
    const size = view.getUint32(block.start + at, true);
    if (size < HOST_CHUNK_HEADER) throw new Error(`chunk of ${size} bytes at ${at}`);
    chunkIndex.set(at + HOST_CHUNK_HEADER, chunkOffsets.length);
    chunkOffsets.push(at);
    at += size;
  }
  const chunkCount = chunkOffsets.length;
  const nodeCount = 1 + slotCount + chunkCount;
  const chunkNode = (offset: number): number => {
    const index = chunkIndex.get(offset);
    return index === undefined ? 0 : 1 + slotCount + index;
  };
  const chunkSize = (node: number): number => view.getUint32(block.start + chunkOffsets[node - 1 - slotCount]!, true);
  const chunkData = (node: number): number => block.start + chunkOffsets[node - 1 - slotCount]! + HOST_CHUNK_HEADER;

  const hostBytes = new Uint32Array(nodeCount);
  const esp32Bytes = new Uint32Array(nodeCount);
  const kinds = new Int8Array(nodeCount).fill(-2);
  const ids = new Int32Array(nodeCount);
  const chunkUse: (ChunkUse | undefined)[] = new Array(chunkCount);
  const lists: number[][] = Array.from({ length: nodeCount }, () => []);

  /** The references of one written slot at `at` (a heap slot, an element of an array chunk or a stack slot). */
  const slotReferences = (at: number, out: number[], withNext: boolean): void => {
    const kind = view.getInt8(at + 8);
    if (withNext) {
      const next = readWord(view, at);
      if (next !== 0) out.push(next);
    }
    for (const word of SLOT_WORDS[kind] ?? []) {
      const target = readWord(view, at + 16 + word * 8);
      // A function's closures: its environment, marked weak (negative) until the edges are built.
      if (target !== 0) out.push(kind === Kind.Code && word === 1 ? -target : target);
    }
    for (const [word, use] of CHUNK_WORDS[kind] ?? []) {
      const offset = readWord(view, at + 16 + word * 8);
      if (offset === 0) continue;
      const node = chunkNode(offset);
      if (node === 0) continue;
      chunkUse[node - 1 - slotCount] ??= use;
      out.push(node);
    }
  };

  for (let index = 1; index <= slotCount; index++) {
    const at = slotAt(index);
    kinds[index] = view.getInt8(at + 8);
    ids[index] = view.getInt32(at + 12, true);
    hostBytes[index] = HOST_SLOT_BYTES;
    esp32Bytes[index] = ESP32_SLOT_BYTES;
  }
  // A bytecode function's home object is not taken as a reference. xsnap sets a private method's
  // home to each new instance it is installed on (xsProperty.c), so the method keeps the last
  // instance of its class alive; on the board the preloaded method is read-only and keeps its own.
  // Methods' other homes (prototypes, object literals, constructors) are reachable anyway. Host
  // functions keep theirs: an await's resolve function reaches its suspended async function so.
  const bytecodeHomes = new Set<number>();
  for (let index = 1; index <= slotCount; index++) {
    if (kinds[index] !== Kind.Code) continue;
    const home = readWord(view, slotAt(index));
    if (home !== 0 && kinds[home] === Kind.Home) bytecodeHomes.add(home);
  }
  for (let index = 1; index <= slotCount; index++) {
    const at = slotAt(index);
    if (bytecodeHomes.has(index)) {
      const next = readWord(view, at);
      if (next !== 0) lists[index]!.push(next);
      const module = readWord(view, at + 24);
      if (module !== 0) lists[index]!.push(module);
      continue;
    }
    slotReferences(at, lists[index]!, true);
  }
  for (let i = 0; i < chunkCount; i++) {
    const node = 1 + slotCount + i;
    const size = chunkSize(node);
    hostBytes[node] = size;
    const payload = size - HOST_CHUNK_HEADER;
    const use = chunkUse[i] ?? "data";
    const data = chunkData(node);
    if (use === "slots") {
      // An array's elements: slots written in place, their `next` holding an index, not a pointer.
      for (let at = data; at < data + payload; at += HOST_SLOT_BYTES) slotReferences(at, lists[node]!, false);
      esp32Bytes[node] = ESP32_CHUNK_HEADER + (payload / HOST_SLOT_BYTES) * ESP32_SLOT_BYTES;
    } else if (use === "table") {
      for (let at = data; at < data + payload; at += HOST_POINTER) {
        const target = readWord(view, at);
        if (target !== 0) lists[node]!.push(target);
      }
      esp32Bytes[node] = ESP32_CHUNK_HEADER + (payload / HOST_POINTER) * ESP32_POINTER;
    } else if (use === "code") {
      // Bytecode: xsnap copies a function's code into a chunk each time it makes the function
      // (xsRun.c XS_CODE_CODE); on the board the code of a preloaded module stays in flash.
      esp32Bytes[node] = 0;
    } else if (use === "string") {
      let length = 0;
      while (length < payload && bytes[data + length] !== 0) length++;
      esp32Bytes[node] = ESP32_CHUNK_HEADER + ((length + 1 + 3) & ~3);
    } else {
      esp32Bytes[node] = ESP32_CHUNK_HEADER + ((payload + 3) & ~3);
    }
  }

  const roots: number[] = [];
  for (let at = stack.start; at < stack.end; at += HOST_SLOT_BYTES) slotReferences(at, roots, false);
  const keySlots: number[] = [];
  for (let at = keys.start; at < keys.end; at += HOST_POINTER) {
    const target = readWord(view, at);
    keySlots.push(target);
    if (target !== 0) roots.push(target);
  }

  const edgeStart = new Uint32Array(nodeCount + 1);
  let total = 0;
  for (let n = 0; n < nodeCount; n++) {
    edgeStart[n] = total;
    total += lists[n]!.length;
  }
  edgeStart[nodeCount] = total;
  const edges = new Uint32Array(total);
  const weak = new Uint8Array(total);
  for (let n = 0; n < nodeCount; n++) {
    const list = lists[n]!;
    for (let i = 0; i < list.length; i++) {
      const target = list[i]!;
      edges[edgeStart[n]! + i] = Math.abs(target);
      if (target < 0) weak[edgeStart[n]! + i] = 1;
    }
  }
  for (let i = 0; i < roots.length; i++) roots[i] = Math.abs(roots[i]!);

  const stringOf = (node: number): string | undefined => {
    if (node <= 0 || node > slotCount) return undefined;
    const kind = kinds[node];
    if (kind !== Kind.String && kind !== Kind.Key) return undefined;
    const chunk = chunkNode(readWord(view, slotAt(node) + 16));
    if (chunk === 0) return undefined;
    const data = chunkData(chunk);
    let end = data;
    while (bytes[end] !== 0) end++;
    return new TextDecoder().decode(bytes.subarray(data, end));
  };
  // Key IDs index the key table (xsnap's machine has no host keys: keyOffset is 0); ID 0 is none.
  const keyNames = new Map<number, string>();
  const keyIds = new Map<string, number>();
  keySlots.forEach((slot, index) => {
    const name = stringOf(slot);
    if (name === undefined) return;
    keyNames.set(index, name);
    if (!keyIds.has(name)) keyIds.set(name, index);
  });

  return {
    slotCount,
    chunkCount,
    nodeCount,
    hostBytes,
    esp32Bytes,
    kinds,
    ids,
    edgeStart,
    edges,
    weak,
    roots,
    keyName: (id) => keyNames.get(id),
    keyId: (name) => keyIds.get(name),
    stringValue: stringOf,
    referenceOf: (node) =>
      node > 0 && node <= slotCount && kinds[node] === Kind.Reference ? readWord(view, slotAt(node) + 16) : 0,
    nextOf: (node) => (node > 0 && node <= slotCount ? readWord(view, slotAt(node)) : 0),
    valueSlot: (node, word) => (node > 0 && node <= slotCount ? readWord(view, slotAt(node) + 16 + word * 8) : 0),
  };
}

/** The whole heap of a snapshot: every slot and chunk in it is live (the snapshot collects first). */
export function heapTotals(graph: HeapGraph): { slots: number; chunkBytes: number; esp32ChunkBytes: number } {
  let chunkBytes = 0;
  let esp32ChunkBytes = 0;
  for (let n = graph.slotCount + 1; n < graph.nodeCount; n++) {
    chunkBytes += graph.hostBytes[n]!;
    esp32ChunkBytes += graph.esp32Bytes[n]!;
  }
  return { slots: graph.slotCount, chunkBytes, esp32ChunkBytes };
}
