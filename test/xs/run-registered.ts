// Runs the portable test registry inside the XS engine. It reaches the host only through the
// `report` function the bundle entry passes in (xsnap's issueCommand), so it needs no console
// and no timers.
import { registeredTests } from "../portable/harness.js";

export interface TestReport {
  readonly kind: "result";
  readonly suite: string;
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}${error.stack ? `\n${error.stack}` : ""}`;
  return String(error);
}

export async function runRegistered(
  report: (line: TestReport | { kind: "start"; name: string } | { kind: "done"; count: number }) => void,
): Promise<void> {
  const tests = registeredTests();
  for (const t of tests) {
    report({ kind: "start", name: `${t.suite} › ${t.name}` });
    try {
      await t.body();
      report({ kind: "result", suite: t.suite, name: t.name, ok: true });
    } catch (error) {
      report({ kind: "result", suite: t.suite, name: t.name, ok: false, error: describeError(error) });
    }
  }
  report({ kind: "done", count: tests.length });
}
