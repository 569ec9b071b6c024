// A request the platform refuses. Handlers throw it; the server turns it into the reply the
// platform gives: the CoAP code and a JSON body `{"status":"error","message":...}`. 5.00 is only
// for the platform's own failures.

export type ErrorCode = "4.00" | "4.04" | "4.05" | "4.13" | "5.00";

export class PlatformError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = "PlatformError";
    this.code = code;
  }

  /** The body the platform sends with every error. */
  body(): { status: "error"; message: string } {
    return { status: "error", message: this.message };
  }
}
