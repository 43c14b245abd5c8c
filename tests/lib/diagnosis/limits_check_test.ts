// Unit tests of the membership-limit check (lib/diagnosis/limits_check.ts) against a stand-in
// procfs: sources per filter, groups per socket, open files.

import assert from "node:assert/strict";
import { checkLimits, parseOpenFileLimit } from "../../../lib/diagnosis/limits_check.ts";
import { resolveReception } from "../../../lib/diagnosis/reception.ts";

function procfs(files: Record<string, string>): string {
  const dir = Deno.makeTempDirSync();
  for (const [path, text] of Object.entries(files)) {
    Deno.mkdirSync(`${dir}/${path.slice(0, path.lastIndexOf("/"))}`, { recursive: true });
    Deno.writeTextFileSync(`${dir}/${path}`, text);
  }
  return dir;
}

Deno.test("parseOpenFileLimit reads /proc/self/limits", () => {
  const text = "Limit                     Soft Limit           Hard Limit           Units     \n" +
    "Max open files            1024                 524288               files     \n";
  assert.deepEqual(parseOpenFileLimit(text), { soft: 1024, hard: 524288 });
  assert.deepEqual(
    parseOpenFileLimit(
      "Max open files            unlimited            unlimited            files\n",
    ),
    { soft: Infinity, hard: Infinity },
  );
  assert.equal(parseOpenFileLimit("nothing"), null);
});

Deno.test("more sources than igmp_max_msf is an error with the sysctl that raises it", () => {
  const dir = procfs({ "sys/net/ipv4/igmp_max_msf": "2\n" });
  try {
    const three = resolveReception({
      group: "232.1.1.1",
      sources: ["10.0.0.1", "10.0.0.2", "10.0.0.3"],
    });
    assert.deepEqual(checkLimits(three, { procRoot: dir }), [{
      id: "max-memberships",
      severity: "error",
      message: "(10.0.0.1, 10.0.0.2, 10.0.0.3, 232.1.1.1) lists 3 sources and " +
        "net.ipv4.igmp_max_msf = 2: the join fails with ENOBUFS",
      fix: "sysctl -w net.ipv4.igmp_max_msf=3",
    }]);
    const two = resolveReception({ group: "232.1.1.1", sources: ["10.0.0.1", "10.0.0.2"] });
    assert.deepEqual(checkLimits(two, { procRoot: dir }), []);
    // IPv6: mld_max_msf cannot be read here (as in a network namespace): a warning says so.
    const v6 = resolveReception({ group: "ff3e::1", sources: ["fd00::1", "fd00::2"] });
    const [warning] = checkLimits(v6, { procRoot: dir });
    assert.equal(warning.severity, "warning");
    assert.match(warning.message, /^Cannot read net\.ipv6\.mld_max_msf here/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("groups on one socket against igmp_max_memberships; one socket each against open files", () => {
  const dir = procfs({
    "sys/net/ipv4/igmp_max_memberships": "20\n",
    "self/limits": "Max open files            64                   100                  files\n",
  });
  try {
    const group = resolveReception({ group: "239.1.1.1" });
    const [shared] = checkLimits(group, { groups: 30, sharedSocket: true, procRoot: dir });
    assert.equal(shared.fix, "sysctl -w net.ipv4.igmp_max_memberships=30");
    assert.deepEqual(checkLimits(group, { groups: 20, sharedSocket: true, procRoot: dir }), []);
    const [soft] = checkLimits(group, { groups: 60, procRoot: dir });
    assert.deepEqual([soft.severity, soft.fix], ["error", "ulimit -n 76"]);
    const [hard] = checkLimits(group, { groups: 200, procRoot: dir });
    assert.equal(hard.fix, "ulimit -Hn 216 && ulimit -n 216 (as root)");
    assert.deepEqual(checkLimits(group, { groups: 40, procRoot: dir }), []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
