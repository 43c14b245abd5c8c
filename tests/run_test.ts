import assert from "node:assert/strict";
import { countJunit, summaryLine } from "./run.ts";

const FIXTURE = new URL("./fixtures/runner_fixture.ts", import.meta.url).pathname;

Deno.test("countJunit counts Deno's own JUnit report of a known mix of outcomes", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const junit = `${dir}/report.xml`;
    const run = await new Deno.Command(Deno.execPath(), {
      args: ["test", "--no-check", "--reporter=dot", `--junit-path=${junit}`, FIXTURE],
      stdout: "null",
      stderr: "null",
      env: { NO_COLOR: "1" },
    }).output();
    assert.equal(run.code, 1, "the fixture has one failing test");
    const counts = countJunit(await Deno.readTextFile(junit));
    // Steps are not tests of their own; the ignored test is skipped.
    assert.deepEqual(counts, { passed: 3, failed: 1, skipped: 1 });
    assert.equal(summaryLine(counts), "3 passed, 1 failed, 1 skipped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("summaryLine omits skipped when there are none", () => {
  assert.equal(summaryLine({ passed: 12, failed: 0, skipped: 0 }), "12 passed, 0 failed");
});
