import { test } from "../portable/harness.js";
import * as assert from "../portable/assert.js";
test("harness runs", async () => { await null; assert.equal(1 + 1, 2); });
