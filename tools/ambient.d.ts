// Types for the untyped JavaScript packages the host tools use.
declare module "@endo/init";
declare module "@agoric/xsnap" {
  export interface XsnapWorker {
    evaluate(code: string): Promise<unknown>;
    issueCommand(message: Uint8Array): Promise<{ reply: Uint8Array }>;
    issueStringCommand(message: string): Promise<{ reply: string }>;
    close(): Promise<void>;
    terminate(): Promise<void>;
  }
  export function xsnap(options: {
    os: string;
    spawn: typeof import("node:child_process").spawn;
    fs: unknown;
    name?: string;
    stdout?: "ignore" | "inherit" | "pipe";
    stderr?: "ignore" | "inherit" | "pipe";
    meteringLimit?: number;
    handleCommand?: (message: Uint8Array) => Promise<Uint8Array>;
  }): Promise<XsnapWorker>;
}
