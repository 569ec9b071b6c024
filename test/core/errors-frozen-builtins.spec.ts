// Moddable freezes the built-ins at build time (preload), so Error.prototype.name is read-only on
// the board and in the simulator: an error class that assigns `this.name` in its constructor
// throws a TypeError there instead of constructing. Every error class of the core must construct
// under that condition.
import { CoapRequestError } from "../../coap/client-api.js";
import { CoapFormatError } from "../../coap/format-error.js";
import { ThethingsError } from "../../thethings/errors.js";
import * as assert from "../portable/assert.js";
import { suite, test } from "../portable/harness.js";

function withReadOnlyErrorName(errorClass: { prototype: object }, body: () => void): void {
  const original = Object.getPrototypeOf(errorClass.prototype) as object;
  const frozen = Object.freeze(Object.create(Error.prototype, { name: { value: "Error", writable: false } }) as object);
  Object.setPrototypeOf(errorClass.prototype, frozen);
  try {
    body();
  } finally {
    Object.setPrototypeOf(errorClass.prototype, original);
  }
}

suite("error classes under frozen built-ins", () => {
  test("CoapRequestError constructs and names itself", () => {
    withReadOnlyErrorName(CoapRequestError, () => {
      const error = new CoapRequestError("timeout", "no ACK");
      assert.equal(error.name, "CoapRequestError");
      assert.equal(error.kind, "timeout");
    });
  });

  test("CoapFormatError constructs and names itself", () => {
    withReadOnlyErrorName(CoapFormatError, () => {
      const error = new CoapFormatError("truncated-header", "2 bytes", 0);
      assert.equal(error.name, "CoapFormatError");
      assert.equal(error.reason, "truncated-header");
    });
  });

  test("ThethingsError constructs and names itself", () => {
    withReadOnlyErrorName(ThethingsError, () => {
      const error = new ThethingsError("server", "write", "5.03");
      assert.equal(error.name, "ThethingsError");
      assert.equal(error.kind, "server");
    });
  });
});
