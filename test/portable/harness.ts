// A test registry that runs unchanged on Node (through node:test, see test/node/core.test.ts)
// and on the XS engine (through test/xs/entry.ts). Core test files register here instead of
// importing node:test, so the same assertions run on both engines.

export type TestBody = () => void | Promise<void>;

export interface RegisteredTest {
  readonly suite: string;
  readonly name: string;
  readonly body: TestBody;
}

const registry: RegisteredTest[] = [];
let currentSuite = "";

/** Groups the tests registered inside `define` under one suite name. */
export function suite(name: string, define: () => void): void {
  const outer = currentSuite;
  currentSuite = outer === "" ? name : `${outer} › ${name}`;
  try {
    define();
  } finally {
    currentSuite = outer;
  }
}

export function test(name: string, body: TestBody): void {
  registry.push({ suite: currentSuite, name, body });
}

export function registeredTests(): readonly RegisteredTest[] {
  return registry;
}
