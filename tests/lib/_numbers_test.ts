import assert from "node:assert/strict";
import { round } from "../../lib/_numbers.ts";

Deno.test("round keeps the given decimal digits", () => {
  assert.equal(round(1.23456, 3), 1.235);
  assert.equal(round(1.2344, 3), 1.234);
  assert.equal(round(12.5, 0), 13);
  assert.equal(round(-0.0004, 3), -0);
  assert.equal(round(99.999, 2), 100);
  assert.equal(round(40.2, 2), 40.2);
});

Deno.test("round turns values that are not finite into 0", () => {
  assert.equal(round(Number.NaN, 3), 0);
  assert.equal(round(Infinity, 2), 0);
  assert.equal(round(-Infinity, 0), 0);
});
