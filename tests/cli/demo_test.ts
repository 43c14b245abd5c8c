// `deno task demo` in a bare namespace (only lo up): it runs mcast-receive and mcast-send on lo
// and must report packets received and exit 0.

import assert from "node:assert/strict";
import { labTest } from "../lab/mod.ts";

const ROOT = new URL("../../", import.meta.url).pathname;
const SCRIPT = new URL("../../cli/demo.ts", import.meta.url).pathname;

labTest("deno task demo passes in a bare namespace with only lo up", async (lab) => {
  const bare = await lab.addNamespace("bare");
  const links = await bare.ip(["-o", "link", "show", "up"]);
  assert.deepEqual(links.trim().split("\n").map((line) => line.split(":")[1].trim()), ["lo"]);

  const result = await bare.run([Deno.execPath(), "task", "demo"], {
    cwd: ROOT,
    timeoutMs: 45_000,
  });
  const output = `${result.stdout}\n${result.stderr}`;
  assert.equal(result.code, 0, output);
  const arrived = /What arrived\n\s+(\d+) packets/.exec(result.stdout);
  assert.ok(arrived, output);
  assert.ok(Number(arrived[1]) > 0, output);
  assert.match(result.stdout, /OK: \d+ of \d+ packets arrived/);
  assert.match(result.stdout, /hops\s+0 /);
  assert.match(result.stdout, /DSCP\s+AF41, sender set AF41: preserved/);
  assert.ok(!result.stdout.includes("\x1b"), "escape codes on a pipe");
}, { timeoutMs: 60_000 });

Deno.test("demo --help, --version and a bad argument", async () => {
  const run = async (args: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-ffi", "--allow-env", "--allow-read", "--allow-run", SCRIPT, ...args],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    return {
      code: out.code,
      stdout: new TextDecoder().decode(out.stdout),
      stderr: new TextDecoder().decode(out.stderr),
    };
  };
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /loopback/);
  const version = await run(["--version"]);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  for (const args of [["--bogus"], ["extra"]]) {
    const bad = await run(args);
    assert.equal(bad.code, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split("\n").length, 1, bad.stderr);
    assert.equal(bad.stdout, "");
  }
});
