// Commands written while the subscription was away were pushed to nobody: after a gap (loss, a
// new token, a platform restart, or reads lost at boot) each output's last command is read back.
// A read lost on a bad link is tried again on a backoff up to keepAlive, at most MAX_READS reads
// in all, until every output has its answer; a newer gap starts its own catch-up instead.
import type { LogSink } from "../kernel/log.js";
import type { ValueReader } from "../thethings/paging.js";
import { restoreActuators } from "./actuator-restore.js";
import { CatchUpRounds, type CatchUpRoundsOptions } from "./catch-up-rounds.js";
import type { CommandDispatcher } from "./commands.js";

export interface CommandCatchUpOptions extends CatchUpRoundsOptions {
  readonly reader: ValueReader;
  readonly dispatcher: CommandDispatcher;
  readonly log: LogSink;
}

export class CommandCatchUp extends CatchUpRounds<CommandCatchUpOptions> {
  /** Reads of the outputs' last commands per catch-up, at most, while reads fail. */
  static readonly MAX_READS = 6;

  protected override get maxRounds(): number {
    return CommandCatchUp.MAX_READS;
  }

  protected override get what(): string {
    return "commands";
  }

  protected override wanted(): boolean {
    return this.options.dispatcher.actuatorKeys.length > 0;
  }

  protected override async round(): Promise<readonly string[]> {
    const { reader, dispatcher, log } = this.options;
    const report = await restoreActuators({ reader, dispatcher, log, source: "catch-up" });
    return report.failed.map((failure) => failure.key);
  }
}
