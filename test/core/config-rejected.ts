// The check every configuration spec makes of a refused value: a ConfigError that names the key,
// a message that starts with it, and the fragments that say what is wrong.

import { ConfigError } from "../../device/config-error.js";
import * as assert from "../portable/assert.js";

export function rejected(fn: () => unknown, key: string, ...fragments: string[]): ConfigError {
  const error = assert.throws(fn, (e) => e instanceof ConfigError, `ConfigError for ${key}`) as ConfigError;
  assert.equal(error.key, key, `the error names the key: ${error.message}`);
  assert.ok(error.message.startsWith(`config ${key}: `), `message starts with the key: ${error.message}`);
  for (const fragment of fragments)
    assert.ok(
      error.message.includes(fragment),
      `message ${JSON.stringify(error.message)} includes ${JSON.stringify(fragment)}`,
    );
  return error;
}
