// lib/group_advice.ts (issue 9, item 10): the groups refused outright, and the warnings a lab
// user gets before sending to or joining a group — control blocks, all-nodes / all-routers, and
// the SSM range used the wrong way round.

import assert from "node:assert/strict";
import { checkUsableGroup, groupWarnings } from "../../lib/group_advice.ts";
import { InvalidValueError } from "../../lib/errors.ts";

Deno.test("checkUsableGroup refuses 224.0.0.0 and the reserved IPv6 scopes 0 and 15", () => {
  for (const group of ["224.0.0.0", "ff00::1", "ff0f::1", "ff30::8000:1", "ff1f::2", "FF0F::1"]) {
    assert.throws(() => checkUsableGroup(group), InvalidValueError, group);
  }
  assert.throws(
    () => checkUsableGroup("224.0.0.0"),
    (error: Error) => error.message.includes('"224.0.0.0"') && /reserved/.test(error.message),
  );
  assert.throws(
    () => checkUsableGroup("ff30::8000:1"),
    (error: Error) => error.message.includes("reserved scope 0"),
  );
  for (const group of ["224.0.0.1", "224.0.0.5", "239.1.2.3", "232.1.1.1", "ff02::1", "ff3e::1"]) {
    checkUsableGroup(group);
  }
});

Deno.test("the local network control block 224.0.0.0/24 is warned for sending and joining", () => {
  for (const use of [{ use: "join" as const }, { use: "send" as const }]) {
    const [warning, ...more] = groupWarnings("224.0.0.5", use);
    assert.deepEqual(more, []);
    assert.ok(
      warning.startsWith("224.0.0.5 is in 224.0.0.0/24, the local network control block"),
      warning,
    );
    assert.match(warning, /pick a group in 239\.0\.0\.0\/8/);
  }
  assert.deepEqual(groupWarnings("224.0.1.1", { use: "join" }), []);
});

Deno.test("all-nodes and all-routers of any scope are warned; other flags and groups are not", () => {
  assert.match(groupWarnings("ff02::1", { use: "join" })[0], /^ff02::1 is the all-nodes group/);
  assert.match(groupWarnings("FF05::2", { use: "send" })[0], /^ff05::2 is the all-routers group/);
  assert.match(groupWarnings("ff01::1", { use: "join" })[0], /all-nodes/);
  for (const group of ["ff12::1", "ff02::1:2", "ff02::3", "ff15::1234"]) {
    assert.deepEqual(groupWarnings(group, { use: "join" }), [], group);
  }
});

Deno.test("an any-source join inside the SSM range, and a source join outside it, are warned", () => {
  assert.deepEqual(groupWarnings("232.1.1.1", { use: "join" }), [
    "232.1.1.1 is in the SSM range 232.0.0.0/8: an any-source (*,G) join there is never " +
    "forwarded by PIM-SSM routers; give the source (mcast-receive 232.1.1.1 SOURCE)",
  ]);
  assert.deepEqual(groupWarnings("232.1.1.1", { use: "join", withSources: true }), []);
  const [outside, ...rest] = groupWarnings("239.1.1.1", { use: "join", withSources: true });
  assert.deepEqual(rest, []);
  assert.ok(outside.startsWith("239.1.1.1 is outside the SSM range 232.0.0.0/8"), outside);
  assert.deepEqual(groupWarnings("239.1.1.1", { use: "join" }), []);
  // IPv6: ff3x::/32, any scope.
  assert.match(
    groupWarnings("FF3E::8000:1", { use: "join" })[0],
    /^ff3e::8000:1 is in the SSM range ff3x::\/32/,
  );
  assert.match(groupWarnings("ff35::1", { use: "join" })[0], /SSM range ff3x::\/32/);
  assert.deepEqual(groupWarnings("ff3e::8000:1", { use: "join", withSources: true }), []);
  assert.match(
    groupWarnings("ff15::1", { use: "join", withSources: true })[0],
    /^ff15::1 is outside the SSM range ff3x::\/32/,
  );
  // Sending into the SSM range is what SSM senders do.
  assert.deepEqual(groupWarnings("232.1.1.1", { use: "send" }), []);
  assert.deepEqual(groupWarnings("ff3e::1", { use: "send" }), []);
});
