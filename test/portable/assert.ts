// Portable assertions (no node:assert on XS). Each failure throws AssertionFailure with a
// message that shows both sides.

export class AssertionFailure extends Error {
  override readonly name = "AssertionFailure";
}

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array[${Array.from(value).join(",")}]`;
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "string") return JSON.stringify(value);
  try {
    const text = JSON.stringify(value, (_k, v: unknown) =>
      v instanceof Uint8Array ? `Uint8Array[${Array.from(v).join(",")}]` : typeof v === "bigint" ? `${v}n` : v,
    );
    return text === undefined ? String(value) : text;
  } catch {
    return String(value);
  }
}

function label(message: string | undefined): string {
  return message === undefined ? "" : `${message}: `;
}

export function ok(value: unknown, message?: string): asserts value {
  if (!value) throw new AssertionFailure(`${label(message)}expected a truthy value, got ${show(value)}`);
}

export function equal<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionFailure(`${label(message)}expected ${show(expected)}, got ${show(actual)}`);
  }
}

export function notEqual<T>(actual: T, unexpected: T, message?: string): void {
  if (Object.is(actual, unexpected)) {
    throw new AssertionFailure(`${label(message)}expected a value other than ${show(unexpected)}`);
  }
}

/**
 * Own enumerable keys plus getters defined on the prototype chain, so objects that expose their
 * data through accessors (the decoder's options) are compared by what they expose.
 */
function comparableKeys(value: object): string[] {
  const keys = Object.keys(value);
  for (
    let proto = Object.getPrototypeOf(value);
    proto !== null && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (keys.indexOf(name) < 0 && Object.getOwnPropertyDescriptor(proto, name)?.get !== undefined) keys.push(name);
    }
  }
  return keys;
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) {
    if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array)) return false;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Map && b instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !isDeepEqual(v, b.get(k))) return false;
    return true;
  }
  const keysA = comparableKeys(a);
  const keysB = comparableKeys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.hasOwn(b, key)) return false;
    if (!isDeepEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  if (!isDeepEqual(actual, expected)) {
    throw new AssertionFailure(`${label(message)}expected ${show(expected)}, got ${show(actual)}`);
  }
}

/** Runs `fn`, which must throw; returns the thrown value for further checks. */
export function throws(fn: () => unknown, check?: (error: unknown) => boolean, message?: string): unknown {
  try {
    fn();
  } catch (error) {
    if (check !== undefined && !check(error)) {
      throw new AssertionFailure(`${label(message)}the thrown value failed the check: ${show(String(error))}`);
    }
    return error;
  }
  throw new AssertionFailure(`${label(message)}expected the call to throw`);
}

export async function rejects(
  promise: Promise<unknown>,
  check?: (error: unknown) => boolean,
  message?: string,
): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    if (check !== undefined && !check(error)) {
      throw new AssertionFailure(`${label(message)}the rejection failed the check: ${show(String(error))}`);
    }
    return error;
  }
  throw new AssertionFailure(`${label(message)}expected the promise to reject`);
}
