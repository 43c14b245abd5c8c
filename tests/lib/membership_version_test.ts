// Unit tests of the operational IGMP/MLD version reader (lib/membership_version.ts), against a
// stand-in procfs in a temporary directory.

import assert from "node:assert/strict";
import { ForcedMembershipVersion } from "../../lib/igmp_version.ts";
import {
  type MembershipJoin,
  OperationalMembershipVersion,
  type OperationalMembershipVersionOptions,
} from "../../lib/membership_version.ts";

const HEADER = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n";

function igmpText(querier: string): string {
  return HEADER +
    "1\tlo        :     1      V3\n" +
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n" +
    `2\teth0      :     2      ${querier}\n` +
    "\t\t\t\t030201EF     1 0:00000000\t\t0\n" +
    "\t\t\t\t010000E0     1 0:00000000\t\t0\n";
}

const IGMP6 = "1    lo              ff020000000000000000000000000001     1 0000000C 0\n" +
  "2    eth0            ff3e0000000000000000000080000001     1 00000004 0\n";

async function withProc(fn: (root: string) => void | Promise<void>): Promise<void> {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${root}/net`);
    await Deno.writeTextFile(`${root}/net/igmp`, igmpText("V3"));
    await Deno.writeTextFile(`${root}/net/igmp6`, IGMP6);
    for (const family of ["ipv4", "ipv6"]) {
      await Deno.mkdir(`${root}/sys/net/${family}/conf/eth0`, { recursive: true });
    }
    await Deno.writeTextFile(`${root}/sys/net/ipv4/conf/eth0/force_igmp_version`, "0\n");
    await Deno.writeTextFile(`${root}/sys/net/ipv6/conf/eth0/force_mld_version`, "0\n");
    await fn(root);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

const ON_ETH0: MembershipJoin = { group: "239.1.2.3", interfaceName: "eth0", interfaceIndex: 2 };

/** A reader of the stand-in procfs at `root`. */
function reader(
  join: MembershipJoin,
  root: string,
  options: Partial<OperationalMembershipVersionOptions> = {},
): OperationalMembershipVersion {
  return new OperationalMembershipVersion(join, {
    protocol: "igmp",
    requested: 3,
    procRoot: root,
    ...options,
  });
}

Deno.test("IGMP: the querier column of the join interface, followed on refresh", async () => {
  await withProc(async (root) => {
    const info = reader(ON_ETH0, root);
    assert.equal(info.interfaceName, "eth0");
    assert.equal(info.version, 3);
    assert.equal(info.label, "IGMPv3");
    // An IGMPv2 querier appears: the kernel falls back.
    await Deno.writeTextFile(`${root}/net/igmp`, igmpText("V2"));
    info.refresh();
    assert.equal(info.version, 2);
    assert.equal(info.label, "IGMPv2 (an IGMPv2 querier is heard)");
    // /proc gone: what was known stays.
    await Deno.remove(`${root}/net/igmp`);
    info.refresh();
    assert.equal(info.version, 2);
  });
});

Deno.test("IGMP: a join without an interface learns it from the group's line", async () => {
  await withProc((root) => {
    const join = { group: "239.1.2.3", interfaceName: null, interfaceIndex: 0 };
    const info = reader(join, root);
    assert.equal(info.interfaceName, "eth0");
    assert.equal(info.version, 3);
    const elsewhere = reader({ group: "239.9.9.9", interfaceName: null, interfaceIndex: 0 }, root);
    assert.equal(elsewhere.interfaceName, null);
    assert.equal(elsewhere.version, null);
    assert.equal(elsewhere.label, "IGMP version unknown");
  });
});

Deno.test("MLD: force_mld_version tells 1 or 2; the interface comes from igmp6", async () => {
  await withProc(async (root) => {
    const join = { group: "ff3e::8000:1", interfaceName: null, interfaceIndex: 0 };
    const info = reader(join, root, { protocol: "mld", requested: 2 });
    assert.equal(info.interfaceName, "eth0");
    assert.equal(info.version, 2);
    assert.equal(info.label, "MLDv2");
    await Deno.writeTextFile(`${root}/sys/net/ipv6/conf/eth0/force_mld_version`, "1\n");
    info.refresh();
    assert.equal(info.version, 1);
    assert.equal(info.label, "MLDv1 (kernel's; v2 not forced)");
  });
});

Deno.test("a forced version is labelled, and kept once it has been restored", async () => {
  await withProc(async (root) => {
    const warnings: string[] = [];
    const forced = ForcedMembershipVersion.apply("eth0", {
      version: 2,
      procRoot: root,
      onSignal: "restore",
      onWarning: (message) => warnings.push(message),
    });
    assert.equal(forced.status, "forced");
    await Deno.writeTextFile(`${root}/net/igmp`, igmpText("V2"));
    const info = reader(ON_ETH0, root, { requested: 2, forced });
    assert.equal(info.label, "IGMPv2 (forced, restored on exit)");
    forced.restore();
    await Deno.writeTextFile(`${root}/net/igmp`, igmpText("V3"));
    info.refresh();
    assert.equal(info.version, 2, "the run's version, not the restored one");
    assert.equal(info.label, "IGMPv2 (forced, restored)");
    assert.deepEqual(warnings, []);
  });
});

Deno.test("labels when the version could not be forced or needed no forcing", () => {
  const denied = reader(ON_ETH0, "/nonexistent", {
    requested: 2,
    forced: { status: "permission-denied", pending: false },
  });
  assert.equal(denied.label, "IGMP version unknown (kernel's; v2 not forced)");
  const unchanged = reader(ON_ETH0, "/nonexistent", {
    requested: 2,
    forced: { status: "unchanged", pending: false },
  });
  assert.equal(unchanged.label, "IGMP version unknown");
});

for (const status of ["shared", "held"] as const) {
  Deno.test(`a ${status} version is kept once this run released it (a signal releases first)`, async () => {
    await withProc(async (root) => {
      await Deno.writeTextFile(`${root}/sys/net/ipv4/conf/eth0/force_igmp_version`, "2\n");
      const forced = { status, pending: true };
      const info = reader(ON_ETH0, root, { requested: 2, forced });
      assert.equal(info.version, 2);
      // The last holder stops: the original value is back before the summary is written.
      forced.pending = false;
      await Deno.writeTextFile(`${root}/sys/net/ipv4/conf/eth0/force_igmp_version`, "0\n");
      info.refresh();
      assert.equal(info.version, 2, "the version this run received under");
      // While still holding it, a change in force is followed.
      const live = reader(ON_ETH0, root, { requested: 2, forced: { status, pending: true } });
      assert.equal(live.version, 3);
    });
  });
}
