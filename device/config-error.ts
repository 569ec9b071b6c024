// The one error a bad setting raises. It names the key as spelled on the command line, so
// startup (main.ts), the PC runner and later the setup portal and remote settings can all show
// which value to fix.

export class ConfigError extends Error {
  /**
   * A field, not `this.name = …`: Moddable freezes the built-ins at build time, and assigning
   * over the frozen Error.prototype.name throws a TypeError on the board and in the simulator.
   */
  override readonly name = "ConfigError";
  /** The setting that is wrong, as spelled on the command line. */
  readonly key: string;

  constructor(key: string, problem: string) {
    super(`config ${key}: ${problem}`);
    this.key = key;
  }
}
