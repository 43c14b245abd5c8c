import assert from "node:assert/strict";
import { InvalidValueError } from "../../../lib/errors.ts";
import {
  checkLabName,
  classroomOptions,
  labPrefix,
  parseHostRef,
  parseTopology,
} from "../../../lib/classroom/options.ts";

Deno.test("lab names: lowercase letters, digits and _, starting with a letter, at most 16", () => {
  for (const good of ["lab", "class2", "a_b", "a".repeat(16)]) {
    assert.equal(checkLabName(good), good);
  }
  for (const bad of ["", "Lab", "2lab", "a-b", "a/b", "a.b", "a".repeat(17), "lab "]) {
    assert.throws(() => checkLabName(bad), InvalidValueError, bad);
  }
  // No `-` in names: one lab's prefix never starts another lab's namespace names.
  assert.equal(labPrefix("lab"), "mlab-lab-");
  assert.ok(!`${labPrefix("lab2")}r1`.startsWith(labPrefix("lab")));
});

Deno.test("HOST and NAME/HOST", () => {
  assert.deepEqual(parseHostRef("r1"), { lab: "lab", host: "r1" });
  assert.deepEqual(parseHostRef("class2/rt1"), { lab: "class2", host: "rt1" });
  assert.deepEqual(parseHostRef("sw", "other"), { lab: "other", host: "sw" });
  for (const bad of ["", "/r1", "lab/", "lab/r1/x", "R1", "lab/r-1"]) {
    assert.throws(() => parseHostRef(bad), /Invalid host/, bad);
  }
});

Deno.test("topologies", () => {
  for (const t of ["lan", "routed", "campus"]) assert.equal(parseTopology(t), t);
  assert.throws(
    () => parseTopology("LAN"),
    /Invalid topology: "LAN" \(expected lan, routed or campus\)/,
  );
});

Deno.test("exercise options: defaults, values, and a refusal naming each bad one", () => {
  assert.deepEqual(classroomOptions({}), { querier: "v3", rpFilterStrict: false });
  assert.deepEqual(
    classroomOptions({ querier: "none", remark: "AF41", drop: "12.5", rpFilter: "strict" }),
    { querier: "none", remark: 34, dropPercent: 12.5, rpFilterStrict: true },
  );
  assert.equal(classroomOptions({ remark: "46" }).remark, 46);
  assert.equal(classroomOptions({ drop: "0" }).dropPercent, 0);
  assert.equal(classroomOptions({ drop: "100" }).dropPercent, 100);
  const bad: Array<[Parameters<typeof classroomOptions>[0], RegExp]> = [
    [{ querier: "v1" }, /Invalid --querier: "v1"/],
    [{ remark: "af50" }, /Invalid --remark: "af50" \(expected an integer from 0 to 63/],
    [{ remark: "64" }, /Invalid --remark: "64"/],
    [{ drop: "100.01" }, /Invalid --drop: "100.01"/],
    [{ drop: "-1" }, /Invalid --drop: "-1"/],
    [{ drop: "5%" }, /Invalid --drop: "5%"/],
    [{ rpFilter: "1" }, /Invalid --rp-filter: "1" \(expected strict\)/],
  ];
  for (const [input, message] of bad) {
    assert.throws(
      () => classroomOptions(input),
      (e) => e instanceof InvalidValueError && message.test(e.message),
    );
  }
});
