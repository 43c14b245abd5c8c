/**
 * Private: lab tests that must fail, run by `lab_test.ts` in a child `deno test` to check the
 * time limit and the CI=true behaviour of `labTest()`.
 *
 * @module
 */

import { labTest } from "./mod.ts";

labTest("times out", async (lab) => {
  const ns = await lab.addNamespace("slow");
  console.log(`fixture namespace ${ns.name}`);
  // Killed when the time limit disposes the lab, which ends this wait.
  await ns.spawn(["sleep", "30"]).wait();
}, { timeoutMs: 1500 });

labTest("needs a missing tool", () => {}, { requires: ["mcl-no-such-program"] });
