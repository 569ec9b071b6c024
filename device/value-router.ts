// Everything written to the thing arrives on one subscription: values on `settings.*` keys go to
// the settings service, every other value to the command dispatcher (which ignores the device's
// own telemetry and unknown keys).
import type { ThingValue } from "../thethings/values.js";
import type { CommandDispatcher } from "./commands.js";
import { SettingsService } from "./settings-service.js";

/** What the subscription keeper hands each notification's values to. */
export interface ValueSink {
  dispatch(values: readonly ThingValue[]): void;
}

export interface ValueRouterOptions {
  readonly commands: Pick<CommandDispatcher, "apply">;
  readonly settings: Pick<SettingsService, "dispatch">;
}

export class ValueRouter implements ValueSink {
  readonly #options: ValueRouterOptions;

  constructor(options: ValueRouterOptions) {
    this.#options = options;
  }

  /** In order, one at a time: a notification may carry a setting and a command together. */
  dispatch(values: readonly ThingValue[]): void {
    for (const value of values) {
      if (SettingsService.isSettingKey(value.key)) this.#options.settings.dispatch(value);
      else this.#options.commands.apply(value);
    }
  }
}
