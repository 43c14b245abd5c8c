// mcast-lab without building a lab: --help and --version, the bad-input table (exit 2, one line
// on stderr naming the bad value, nothing created — checked before the root check, so these run
// as any user), and the clear exit 1 without root (run as `nobody`).

import assert from "node:assert/strict";
import denoJson from "../../deno.json" with { type: "json" };
import { RECORDS_DIR } from "../../lib/classroom/record.ts";
import { nobodyPath, nobodyTest } from "../_nobody.ts";
import { FLAGS, runLab, TOOL } from "./_mcast_lab.ts";

Deno.test("mcast-lab --help shows the subcommands and examples; --version the version", async () => {
  const help = await runLab(["--help"]);
  assert.equal(help.code, 0, help.stderr);
  for (const word of ["up", "exec", "shell", "status", "down", "Examples:", "Topologies:"]) {
    assert.match(help.stdout, new RegExp(`\\b${word}`), word);
  }
  assert.match(help.stdout, /mcast-lab exec r1 -- mcast-receive 232\.1\.1\.1 10\.0\.1\.10/);
  const up = await runLab(["up", "--help"]);
  assert.equal(up.code, 0);
  for (const option of ["--name", "--querier", "--remark", "--drop", "--rp-filter"]) {
    assert.match(up.stdout, new RegExp(option), option);
  }
  const version = await runLab(["--version"]);
  assert.equal(version.stdout.trim(), denoJson.version);
});

const BAD: ReadonlyArray<[string[], RegExp]> = [
  [["up", "mesh"], /Invalid topology: "mesh" \(expected lan, routed or campus\)/],
  [["up", "--name", "Lab-1"], /Invalid lab name: "Lab-1"/],
  [["up", "--name", "a".repeat(17)], /Invalid lab name: "a{17}"/],
  [["up", "--querier", "v4"], /Invalid --querier: "v4" \(expected v2, v3 or none\)/],
  [["up", "--drop", "150"], /Invalid --drop: "150"/],
  [["up", "--drop", "ten"], /Invalid --drop: "ten"/],
  [["up", "--drop", "1.234"], /Invalid --drop: "1.234"/],
  [["up", "--remark", "af99"], /Invalid --remark: "af99"/],
  [["up", "--rp-filter", "loose"], /Invalid --rp-filter: "loose" \(expected strict\)/],
  [["up", "--bogus"], /unknown option '--bogus'/],
  [["up", "lan", "routed"], /too many arguments/],
  [["exec", "R1", "--", "true"], /Invalid host: "R1"/],
  [["exec", "lab/r-1", "--", "true"], /Invalid host: "lab\/r-1"/],
  [["exec", "r1"], /missing required argument 'command'/],
  [["exec", "r1", "--"], /exec needs a command after --/],
  [["shell"], /missing required argument 'host'/],
  [["down", "bad-name"], /Invalid lab name: "bad-name"/],
  [["down", "lab", "--all"], /down takes a NAME or --all, not both/],
  [["status", "--yaml"], /unknown option '--yaml'/],
  [["bogus"], /unknown command 'bogus'/],
];

Deno.test("mcast-lab refuses bad input with exit 2 and one line naming the value", async (t) => {
  for (const [args, message] of BAD) {
    await t.step(args.join(" "), async () => {
      const result = await runLab(args);
      assert.equal(result.code, 2, `${args.join(" ")}: exit ${result.code}: ${result.stderr}`);
      const lines = result.stderr.trim().split("\n");
      assert.equal(lines.length, 1, result.stderr);
      assert.match(lines[0], /^mcast-lab: /);
      assert.match(lines[0], message);
      assert.equal(result.stdout, "");
    });
  }
  for (const name of ["Lab-1", "bad-name"]) await assertNoRecord(name);
});

/**
 * No record of a lab named `name`. A user who may not look into the records directory (0700,
 * root's, made by an earlier root run) could not have written one either.
 */
async function assertNoRecord(name: string): Promise<void> {
  const found = await Deno.stat(`${RECORDS_DIR}/${name}`).then(
    () => true,
    (error) => {
      if (error instanceof Deno.errors.NotFound) return false;
      if (error instanceof Deno.errors.PermissionDenied && Deno.uid() !== 0) return false;
      throw error;
    },
  );
  assert.equal(found, false, `a record ${RECORDS_DIR}/${name} was created`);
}

nobodyTest("mcast-lab without root exits 1 and says why", async (nobody) => {
  for (const args of [["status"], ["up", "lan"], ["down", "--all"]]) {
    const result = await new Deno.Command("runuser", {
      args: [
        ...nobody.prefix.slice(1),
        nobody.deno,
        "run",
        "--cached-only",
        "--quiet",
        ...FLAGS,
        nobodyPath(nobody, new URL(`file://${TOOL}`)),
        ...args,
      ],
      cwd: "/",
    }).output();
    const stderr = new TextDecoder().decode(result.stderr);
    assert.equal(result.code, 1, `${args.join(" ")}: ${stderr}`);
    assert.equal(
      stderr.trim(),
      "mcast-lab: Permission needed: root (mcast-lab creates network namespaces, veth links " +
        "and bridges and keeps its records in /run/mcast/labs; run it with sudo)",
    );
  }
});

Deno.test("mcast-lab's permissions are the least that work: no --allow-all, /run/mcast only", () => {
  assert.ok(!FLAGS.includes("--allow-all") && !FLAGS.includes("-A"));
  assert.ok(
    FLAGS.includes("--allow-read=/run/mcast") && FLAGS.includes("--allow-write=/run/mcast"),
  );
  assert.ok(!FLAGS.includes("--allow-ffi"), "mcast-lab itself needs no FFI");
  assert.ok(denoJson.tasks["mcast-lab"].includes(FLAGS.join(" ")), "the task has the same flags");
});
